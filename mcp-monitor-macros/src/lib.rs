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
/// kept as written. `Err` is recognised through any alias of `Result`
/// (`std::io::Result<T>`, `anyhow::Result<T>`, your own `type DbResult<T>`).
///
/// Label values must be non-empty string literals of at most 64 bytes made of ASCII
/// letters, digits, `_`, `-`, `.`, `:` and `/`; anything else is a compile error.
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
/// run (on the same task or thread) do not raise `mcp_active_workflows` again.
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
        let parsed = parse_fn(kind, item2.clone())?;
        expand::expand(kind, &labels, parsed)
    });
    match result {
        Ok(tokens) => tokens.into(),
        // Emit the item unchanged beside the error so that the user sees one error,
        // not a cascade of "cannot find function" errors at every call.
        Err(err) => {
            let mut tokens = err.into_compile_error();
            item2.to_tokens(&mut tokens);
            tokens.into()
        }
    }
}

fn parse_fn(kind: Kind, item: proc_macro2::TokenStream) -> syn::Result<syn::ItemFn> {
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => return Ok(f),
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Const(_)) => "a const",
        Ok(syn::Item::Static(_)) => "a static",
        Ok(syn::Item::ForeignMod(_)) => "an `extern` block",
        Ok(syn::Item::Impl(_)) => "an impl block (put it on the methods)",
        Ok(syn::Item::Trait(_)) => "a trait (put it on the methods of an impl)",
        Ok(syn::Item::Mod(_)) => "a module",
        Ok(syn::Item::Type(_)) => "a type alias",
        Ok(syn::Item::Use(_)) => "a `use` item",
        Ok(syn::Item::Verbatim(_)) | Err(_)
            if syn::parse2::<syn::TraitItemFn>(item.clone()).is_ok() =>
        {
            return Err(syn::Error::new_spanned(
                &item,
                format!(
                    "#[{}] needs a function with a body; a declaration without one has nothing to measure",
                    kind.attr_name()
                ),
            ))
        }
        _ => "this item",
    };
    Err(syn::Error::new_spanned(
        &item,
        format!(
            "#[{}] can only be applied to a function or method, not to {what}",
            kind.attr_name()
        ),
    ))
}
