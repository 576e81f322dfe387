//! The fixed CSS every bundle starts with, and the CSS of each known component type.
//!
//! A page's bundle carries only the rules of the types it uses, so the table is keyed by type
//! and every entry is already minified. Rules target the `fb-<type>` class the edge's renderer
//! puts on a component's element.

/// A small reset shipped with every page.
pub const BASE_CSS: &str = "*,*::before,*::after{box-sizing:border-box}\
body{margin:0;line-height:1.5;-webkit-text-size-adjust:100%}\
img,svg,video{display:block;max-width:100%;height:auto}\
button,input,select,textarea{font:inherit;color:inherit}";

/// The CSS of one known component type; `None` for types without rules of their own.
pub fn type_css(component_type: &str) -> Option<&'static str> {
    let css = match component_type {
        "Text" => ".fb-text{margin:0}",
        "Heading" => ".fb-heading{margin:0;font-weight:700;line-height:1.2}",
        "Image" => ".fb-image{display:block;max-width:100%;height:auto}",
        "Badge" => {
            ".fb-badge{display:inline-flex;align-items:center;padding:2px 10px;\
             border-radius:9999px;font-size:12px;font-weight:600}"
        }
        "Divider" => ".fb-divider{border:0;border-top:1px solid #e5e7eb;margin:16px 0}",
        "Spacer" => ".fb-spacer{display:block;flex-shrink:0}",
        "Icon" => ".fb-icon{display:inline-flex;width:1em;height:1em}",
        "Avatar" => {
            ".fb-avatar{display:inline-flex;align-items:center;justify-content:center;\
             overflow:hidden;border-radius:9999px}"
        }
        "Label" => ".fb-label{display:inline-block;font-weight:500}",
        "MarkdownContent" => ".fb-markdown-content>*+*{margin-top:.75em}",
        "Button" => {
            ".fb-button{display:inline-flex;align-items:center;justify-content:center;\
             gap:8px;padding:8px 16px;border-radius:6px;cursor:pointer}"
        }
        "Link" => ".fb-link{text-decoration:underline;cursor:pointer}",
        "Tabs" => ".fb-tabs{display:flex;flex-direction:column;gap:8px}",
        "Accordion" => ".fb-accordion{display:flex;flex-direction:column}",
        "Modal" => ".fb-modal{position:fixed;inset:0;display:flex;align-items:center;justify-content:center}",
        "Dropdown" => ".fb-dropdown{position:relative;display:inline-block}",
        "Toggle" => ".fb-toggle{display:inline-flex;align-items:center;gap:8px;cursor:pointer}",
        "Checkbox" => ".fb-checkbox{display:inline-flex;align-items:center;gap:8px}",
        "Radio" => ".fb-radio{display:inline-flex;align-items:center;gap:8px}",
        "DataTable" => {
            ".fb-data-table{width:100%;overflow-x:auto}\
             .fb-data-table table{width:100%;border-collapse:collapse}\
             .fb-data-table th,.fb-data-table td{padding:8px 12px;text-align:left}"
        }
        "Form" => ".fb-form{display:flex;flex-direction:column;gap:12px}",
        "InfoList" => ".fb-info-list{display:grid;gap:8px}",
        "Chart" => ".fb-chart{width:100%;min-height:240px}",
        "Grid" => ".fb-grid{display:grid;gap:16px}",
        "KPICard" => ".fb-kpi-card{display:flex;flex-direction:column;gap:4px;padding:16px}",
        "Container" => ".fb-container{width:100%;margin-left:auto;margin-right:auto}",
        "Row" => ".fb-row{display:flex;flex-direction:column;width:100%}@media(min-width:768px){.fb-row{flex-direction:row}}",
        "Column" => ".fb-column{display:flex;flex-direction:column;min-width:0}",
        "Section" => ".fb-section{width:100%}",
        "Card" => ".fb-card{border:1px solid #e5e7eb;border-radius:8px;padding:16px}",
        "Panel" => ".fb-panel{padding:16px}",
        _ => return None,
    };
    Some(css)
}
