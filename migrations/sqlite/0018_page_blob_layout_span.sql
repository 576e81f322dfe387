-- Where a compiled page's layoutData value starts and ends in its body (byte offsets), as
-- the compiler wrote it: most of a page's bytes, which priming slices around instead of
-- scanning. NULL for pages compiled before: those are scanned as before.
ALTER TABLE page_blobs ADD COLUMN layout_start INTEGER;
ALTER TABLE page_blobs ADD COLUMN layout_end INTEGER;
