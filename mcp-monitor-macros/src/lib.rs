//! Attribute macros for [`mcp-monitor`](https://docs.rs/mcp-monitor).
//!
//! Use them through the runtime crate, which re-exports them:
//! `use mcp_monitor::{monitor_db_operation, monitor_workflow_step, monitor_workflow};`.
//! The generated code calls only `::mcp_monitor::__private`, a hidden API pinned to the
//! exact version of this crate.

mod attr;
mod expand;

use proc_macro::TokenStream;
use quote::ToTokens;

use crate::attr::{Kind, Labels};

/// Records every call of a database operation.
///
/// `#[monitor_db_operation("operation", "table")]` takes two string literals and records,
/// for each call of the function it is applied to:
///
/// - `mcp_db_operations_total{operation, table, status}`: a counter, `status` being
///   `success`, `failure` (the function returned `Err` or panicked) or `cancelled`
///   (an `async fn` whose future was dropped before it completed);
/// - `mcp_db_operation_duration_seconds{operation, table}`: a histogram of the call's
///   duration.
///
/// It works on free functions, inherent and trait-impl methods (`self`, `&self`,
/// `&mut self`), generic functions, `async fn` (also in traits), plain `fn`, and
/// functions returning `impl Trait`. The signature, attributes, docs and visibility are
/// kept as written, and the body is type-checked against the declared return type as it
/// would be without the attribute. `Err` is recognised through any alias of `Result`
/// (`std::io::Result<T>`, `anyhow::Result<T>`, your own `type DbResult<T>`). A plain `fn`
/// returning `!` is accepted (its panics are recorded); an `async fn` returning `!` is not.
///
/// Label values must be non-empty string literals of at most 64 bytes made of ASCII
/// letters, digits, `_`, `-`, `.`, `:` and `/`; anything else is a compile error.
///
/// With `mcp-monitor`'s `tracing` feature, each call also runs inside a `tracing` span
/// named `"{operation} {table}"` with the fields `db.operation.name`,
/// `db.collection.name` and `otel.kind = "client"`, ended with `mcp.status` (and
/// `otel.status_code = "ERROR"` on a failure); see `docs/tracing.md`.
///
/// ```
/// use mcp_monitor::monitor_db_operation;
///
/// # #[derive(Debug)] struct DbError;
/// # struct User;
/// type DbResult<T> = Result<T, DbError>;
///
/// struct UserService;
///
/// impl UserService {
///     #[monitor_db_operation("select", "users")]
///     async fn get_user(&self, id: i64) -> DbResult<User> {
///         if id < 0 { return Err(DbError); }
///         Ok(User)
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn monitor_db_operation(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::DbOperation, args, item)
}

/// Records every call of a workflow step.
///
/// `#[monitor_workflow_step("workflow", "step")]` takes two string literals and records:
///
/// - `mcp_workflow_steps_total{workflow, step, status}` (`success`, `failure`,
///   `cancelled`, decided as for [`macro@monitor_db_operation`]);
/// - `mcp_workflow_step_duration_seconds{workflow, step}`;
/// - `mcp_active_workflows{workflow}`, raised while the step runs, unless the step runs
///   inside a [`macro@monitor_workflow`] run of the same workflow (the run already counts
///   as one active execution).
///
/// Targets, outcome rules and label rules are those of [`macro@monitor_db_operation`].
/// With the `tracing` feature the call's span is named `"{workflow} {step}"`, with the
/// fields `workflow.name` and `workflow.step.name`.
///
/// ```
/// use mcp_monitor::monitor_workflow_step;
///
/// #[monitor_workflow_step("data_processing", "validation")]
/// fn validate(records: &[i64]) -> Result<usize, String> {
///     if records.is_empty() { Err("no records".into()) } else { Ok(records.len()) }
/// }
/// ```
#[proc_macro_attribute]
pub fn monitor_workflow_step(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::WorkflowStep, args, item)
}

/// Records every run of a whole workflow.
///
/// `#[monitor_workflow("workflow")]` takes one string literal and records:
///
/// - `mcp_workflow_runs_total{workflow, status}`;
/// - `mcp_workflow_run_duration_seconds{workflow}`;
/// - `mcp_active_workflows{workflow}`, raised for the duration of the run.
///
/// Steps ([`macro@monitor_workflow_step`]) of the same workflow called from inside the
/// run (on the same task or thread) do not raise `mcp_active_workflows` again. With the
/// `tracing` feature the run's span is named after the workflow, with the field
/// `workflow.name`, and the spans of its steps are its children.
///
/// ```
/// use mcp_monitor::{monitor_workflow, monitor_workflow_step};
///
/// #[monitor_workflow_step("data_processing", "validation")]
/// async fn validate(n: usize) -> Result<usize, String> { Ok(n) }
///
/// #[monitor_workflow("data_processing")]
/// async fn process(n: usize) -> Result<usize, String> {
///     validate(n).await
/// }
/// ```
#[proc_macro_attribute]
pub fn monitor_workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Workflow, args, item)
}

fn run(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.into();
    let result = Labels::parse(kind, args.into()).and_then(|labels| {
        if syn::parse2::<syn::Item>(item2.clone()).is_err() && is_fn_with_unparsed_body(&item2) {
            // A function whose body does not parse: kept as written (unmeasured), so
            // that the compiler reports the body's own syntax error where it is, as
            // `tracing` does, rather than ours saying it is not a function.
            return Ok(item2.clone());
        }
        let parsed = parse_fn(kind, item2.clone())?;
        expand::expand(kind, &labels, parsed)
    });
    match result {
        Ok(tokens) => tokens.into(),
        Err(err) => {
            let mut tokens = err.into_compile_error();
            // Emit the item unchanged beside the error so that the user sees one error,
            // not a cascade of "cannot find function" errors at every call. Not when the
            // attribute sits on an expression (a closure): there the output must be a
            // single expression, and the error alone is one.
            if is_item_like(&item2) {
                item2.to_tokens(&mut tokens);
            }
            tokens.into()
        }
    }
}

fn is_item_like(item: &proc_macro2::TokenStream) -> bool {
    syn::parse2::<syn::Item>(item.clone()).is_ok()
        || syn::parse2::<syn::TraitItemFn>(item.clone()).is_ok()
        || is_fn_with_unparsed_body(item)
}

/// Whether `item` is a function (outer attributes, visibility, signature) followed by a
/// `{ .. }` body whose contents are not parsed.
fn is_fn_with_unparsed_body(item: &proc_macro2::TokenStream) -> bool {
    use syn::parse::Parser;
    let parser = |input: syn::parse::ParseStream<'_>| {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Signature>()?;
        let body: proc_macro2::Group = input.parse()?;
        if body.delimiter() != proc_macro2::Delimiter::Brace {
            return Err(input.error("expected a body"));
        }
        Ok(())
    };
    parser.parse2(item.clone()).is_ok()
}

fn parse_fn(kind: Kind, item: proc_macro2::TokenStream) -> syn::Result<syn::ItemFn> {
    fn head(keyword: impl ToTokens, name: impl ToTokens) -> proc_macro2::TokenStream {
        let mut tokens = keyword.into_token_stream();
        name.to_tokens(&mut tokens);
        tokens
    }
    // Point at the item's keyword and name, not at its whole body.
    let (what, head) = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => return Ok(f),
        Ok(syn::Item::Struct(i)) => ("a struct", head(i.struct_token, i.ident)),
        Ok(syn::Item::Enum(i)) => ("an enum", head(i.enum_token, i.ident)),
        Ok(syn::Item::Union(i)) => ("a union", head(i.union_token, i.ident)),
        Ok(syn::Item::Const(i)) => ("a const", head(i.const_token, i.ident)),
        Ok(syn::Item::Static(i)) => ("a static", head(i.static_token, i.ident)),
        Ok(syn::Item::ForeignMod(i)) => ("an `extern` block", i.abi.into_token_stream()),
        Ok(syn::Item::Impl(i)) => (
            "an impl block (put it on the methods)",
            head(i.impl_token, i.self_ty),
        ),
        Ok(syn::Item::Trait(i)) => (
            "a trait (put it on the methods of an impl)",
            head(i.trait_token, i.ident),
        ),
        Ok(syn::Item::Mod(i)) => ("a module", head(i.mod_token, i.ident)),
        Ok(syn::Item::Type(i)) => ("a type alias", head(i.type_token, i.ident)),
        Ok(syn::Item::Use(i)) => ("a `use` item", i.use_token.into_token_stream()),
        Ok(syn::Item::Verbatim(_)) | Err(_) => {
            if let Ok(decl) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
                if let (None, Some(semi)) = (&decl.default, &decl.semi_token) {
                    return Err(syn::Error::new_spanned(
                        semi,
                        format!(
                            "#[{}] needs a function with a body to measure, but this declaration ends with `;`: put the attribute on the function's definition (for a trait method, on the method in each `impl`)",
                            kind.attr_name()
                        ),
                    ));
                }
            }
            if let Ok(closure) = syn::parse2::<syn::ExprClosure>(item.clone()) {
                return Err(syn::Error::new_spanned(
                    head(closure.or1_token, closure.or2_token),
                    format!(
                        "#[{}] can only be applied to a function or method, not to a closure: move the closure's body into a `fn`",
                        kind.attr_name()
                    ),
                ));
            }
            ("this item", item)
        }
        Ok(_) => ("this item", item),
    };
    Err(syn::Error::new_spanned(
        head,
        format!(
            "#[{}] can only be applied to a function or method, not to {what}",
            kind.attr_name()
        ),
    ))
}
