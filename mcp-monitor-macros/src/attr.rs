//! Arguments of the monitor attributes and their validation.

use proc_macro2::{Span, TokenStream};
use syn::parse::ParseStream;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

/// Longest label value a monitor attribute accepts.
pub(crate) const MAX_LABEL_LEN: usize = 64;

/// Which attribute is being expanded: decides the label names and the runtime site type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[monitor_db_operation("operation", "table")]`
    DbOperation,
    /// `#[monitor_workflow_step("workflow", "step")]`
    WorkflowStep,
    /// `#[monitor_workflow("workflow")]`
    Workflow,
}

impl Kind {
    /// The attribute's name as a user writes it.
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Kind::DbOperation => "monitor_db_operation",
            Kind::WorkflowStep => "monitor_workflow_step",
            Kind::Workflow => "monitor_workflow",
        }
    }

    /// The names of the labels the attribute takes, in order.
    pub(crate) fn label_names(self) -> &'static [&'static str] {
        match self {
            Kind::DbOperation => &["operation", "table"],
            Kind::WorkflowStep => &["workflow", "step"],
            Kind::Workflow => &["workflow"],
        }
    }

    /// The label names in words: "the operation and the table".
    fn described(self) -> String {
        let names: Vec<String> = self
            .label_names()
            .iter()
            .map(|n| format!("the {n}"))
            .collect();
        names.join(" and ")
    }

    /// A correct use of the attribute, with example values.
    fn usage(self) -> String {
        let example: &[&str] = match self {
            Kind::DbOperation => &["select", "users"],
            Kind::WorkflowStep => &["data_processing", "validation"],
            Kind::Workflow => &["data_processing"],
        };
        let args: Vec<String> = example.iter().map(|v| format!("\"{v}\"")).collect();
        format!("#[{}({})]", self.attr_name(), args.join(", "))
    }

    /// "1 string literal argument, the workflow" / "2 string literal arguments, ...".
    fn arity(self) -> String {
        let n = self.label_names().len();
        format!(
            "{n} string literal argument{}, {}",
            if n == 1 { "" } else { "s" },
            self.described()
        )
    }
}

/// The parsed, validated label values of one attribute.
pub(crate) struct Labels {
    pub(crate) values: Vec<LitStr>,
}

impl Labels {
    /// Parses `input` (the attribute's arguments) for `kind`.
    pub(crate) fn parse(kind: Kind, input: proc_macro2::TokenStream) -> syn::Result<Self> {
        let parser = |stream: ParseStream<'_>| parse_labels(kind, stream);
        syn::parse::Parser::parse2(parser, input)
    }
}

fn parse_labels(kind: Kind, input: ParseStream<'_>) -> syn::Result<Labels> {
    let names = kind.label_names();
    if input.is_empty() {
        // Nothing to point at but the attribute itself (`#[x]` and `#[x()]` alike).
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "#[{}] needs {}, as in {}",
                kind.attr_name(),
                kind.arity(),
                kind.usage()
            ),
        ));
    }
    let mut values: Vec<LitStr> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            let missing = || {
                format!(
                    "#[{}] is missing its `{name}` argument: it needs {}, as in {}",
                    kind.attr_name(),
                    kind.arity(),
                    kind.usage()
                )
            };
            if input.is_empty() {
                // Point at the last argument given: the missing one would follow it.
                let last = values.last().map_or_else(Span::call_site, LitStr::span);
                return Err(syn::Error::new(last, missing()));
            }
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                return Err(input.error(missing()));
            }
        }
        values.push(parse_label(kind, name, input)?);
    }
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        // Span every extra token, from the first to the last.
        let extra: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            extra,
            format!(
                "unexpected argument: #[{}] takes exactly {}, as in {}",
                kind.attr_name(),
                kind.arity(),
                kind.usage()
            ),
        ));
    }
    Ok(Labels { values })
}

fn parse_label(kind: Kind, name: &str, input: ParseStream<'_>) -> syn::Result<LitStr> {
    let expr: Expr = input.parse()?;
    let why = match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            validate_label(name, s)?;
            return Ok(s.clone());
        }
        Expr::Lit(ExprLit { lit, .. }) => {
            let what = match lit {
                Lit::Int(_) => "an integer literal",
                Lit::Float(_) => "a float literal",
                Lit::Bool(_) => "a boolean literal",
                Lit::Char(_) => "a character literal",
                Lit::ByteStr(_) | Lit::CStr(_) => "a byte or C string literal",
                _ => "this literal",
            };
            format!("found {what}: write the value in double quotes")
        }
        Expr::Path(_) => "a const, static or variable cannot be used, because labels are read at compile time: write its value itself".to_owned(),
        Expr::Assign(_) => "the arguments are positional, without names".to_owned(),
        Expr::Macro(_) => "a macro call cannot be used, because labels are read before it expands: write the value itself".to_owned(),
        _ => "labels are read at compile time: write the value itself".to_owned(),
    };
    Err(syn::Error::new_spanned(
        expr,
        format!(
            "the `{name}` label must be a string literal, as in {}; {why}",
            kind.usage()
        ),
    ))
}

/// Checks a label value: non-empty, at most [`MAX_LABEL_LEN`] bytes, and only
/// ASCII letters, digits and `_ - . : /`.
///
/// Those characters never need escaping in the Prometheus text format, in PromQL
/// selectors or in JSON, and keep a label a stable identifier rather than free text.
pub(crate) fn validate_label(name: &str, lit: &LitStr) -> syn::Result<()> {
    let value = lit.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!("the `{name}` label must not be empty"),
        ));
    }
    if value.len() > MAX_LABEL_LEN {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "the `{name}` label is {} bytes long; the limit is {MAX_LABEL_LEN}",
                value.len()
            ),
        ));
    }
    if let Some(bad) = value.chars().find(|c| !is_label_char(*c)) {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "the `{name}` label contains {bad:?}; label values may use only ASCII letters, digits, `_`, `-`, `.`, `:` and `/`"
            ),
        ));
    }
    Ok(())
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}
