// Writes src/schema.d.ts from openapi/openapi.json with openapi-typescript, or with `--check`
// fails when the file differs from what it would write (CI: the API changed, the types not).
//
// One schema is written by hand: `StorableJson` (any JSON value) is recursive through arrays,
// which openapi-typescript renders as `components["schemas"]["StorableJson"][]` inside its own
// annotation, a type TypeScript refuses (TS2502, openapi-typescript issue 1603). A type alias
// may refer to itself, so the schema becomes one.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { COMMENT_HEADER, astToString } from "openapi-typescript";
import ts from "typescript";

const root = new URL("../", import.meta.url);
const source = new URL("../../openapi/openapi.json", root);
const target = fileURLToPath(new URL("src/schema.d.ts", root));
const SELF = "#/components/schemas/StorableJson";

const ast = await openapiTS(source, {
  inject:
    "/** Any JSON value (the document's `StorableJson`, whose rules a request must keep). */\n" +
    "export type StorableJson = null | boolean | number | string | StorableJson[] | { [key: string]: StorableJson };\n",
  transform(_schema, { path }) {
    return path === SELF ? ts.factory.createTypeReferenceNode("StorableJson") : undefined;
  },
});
const text = COMMENT_HEADER + astToString(ast);

if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
  if (current !== text) {
    console.error(
      "clients/typescript/src/schema.d.ts is stale: run `npm run generate` in clients/typescript and commit it",
    );
    process.exit(1);
  }
} else {
  fs.writeFileSync(target, text);
}
