//! Arguments of the monitor attributes and their validation.

use proc_macro2::Span;
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

    fn usage(self) -> String {
        let args: Vec<String> = self
            .label_names()
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect();
        format!("#[{}({})]", self.attr_name(), args.join(", "))
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
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "#[{}] needs {} string literal argument{}: {}",
                kind.attr_name(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                kind.usage()
            ),
        ));
    }
    let mut values = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            if input.is_empty() {
                return Err(syn::Error::new(
                    values_span(&values),
                    format!("missing the `{name}` argument: expected {}", kind.usage()),
                ));
            }
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                return Err(input.error(format!(
                    "missing the `{name}` argument: expected {}",
                    kind.usage()
                )));
            }
        }
        values.push(parse_label(kind, name, input)?);
    }
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        let extra: Expr = input.parse()?;
        return Err(syn::Error::new_spanned(
            extra,
            format!(
                "unexpected argument: #[{}] takes exactly {} argument{} ({})",
                kind.attr_name(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(Labels { values })
}

fn values_span(values: &[LitStr]) -> Span {
    values.last().map_or_else(Span::call_site, LitStr::span)
}

fn parse_label(kind: Kind, name: &str, input: ParseStream<'_>) -> syn::Result<LitStr> {
    let expr: Expr = input.parse()?;
    let lit = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!(
                    "the `{name}` label must be a string literal, as in {}: labels are fixed at compile time so the call site can keep its metric handles",
                    kind.usage()
                ),
            ))
        }
    };
    validate_label(name, &lit)?;
    Ok(lit)
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
