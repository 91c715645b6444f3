//! Code generation: wraps a function body in a runtime guard.
//!
//! The expansion is deliberately thin. It declares one `static` call site holding the
//! literal labels, starts a guard from it, runs the user's body (an `async move` block
//! for `async fn`, a `FnOnce` closure otherwise, so that `return` and `?` are captured),
//! classifies the value, and hands it back. Everything that records lives in
//! `::mcp_monitor::__private`, where it is ordinary, type-checked, unit-tested code.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::visit::Visit;
use syn::{Attribute, ItemFn, ReturnType, Type};

use crate::attr::{Kind, Labels};

/// Expands one monitored function.
pub(crate) fn expand(kind: Kind, labels: &Labels, item: ItemFn) -> syn::Result<TokenStream> {
    check_fn(kind, &item)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;

    let site_ty = match kind {
        Kind::DbOperation => quote!(DbSite),
        Kind::WorkflowStep => quote!(StepSite),
        Kind::Workflow => quote!(RunSite),
    };
    let values = &labels.values;
    let guard = quote::format_ident!("guard", span = Span::mixed_site());
    let out = quote::format_ident!("out", span = Span::mixed_site());
    let failed = quote::format_ident!("failed", span = Span::mixed_site());

    // Keep return-type inference: `?` inside the body needs to know the error type.
    // `impl Trait` cannot be written in a `let`, so there the body's own type is used.
    let annotation = match &sig.output {
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) => quote!(: #ty),
        _ => TokenStream::new(),
    };

    let body_span = block.brace_token.span.join();
    let run_body = if sig.asyncness.is_some() {
        if kind == Kind::Workflow {
            quote_spanned! {body_span=>
                ::mcp_monitor::__private::InRun::new(#guard.workflow(), async move #block).await
            }
        } else {
            quote_spanned!(body_span=> async move #block.await)
        }
    } else if kind == Kind::Workflow {
        quote_spanned! {body_span=>
            ::mcp_monitor::__private::call_in_run(#guard.workflow(), move || #block)
        }
    } else {
        quote_spanned!(body_span=> ::mcp_monitor::__private::call_once(move || #block))
    };

    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            let #guard = {
                static SITE: ::mcp_monitor::__private::#site_ty =
                    ::mcp_monitor::__private::#site_ty::new(#(#values),*);
                SITE.start()
            };
            let #out #annotation = #run_body;
            let #failed = {
                #[allow(unused_imports)]
                use ::mcp_monitor::__private::{OutcomeOfAny as _, OutcomeOfResult as _};
                (&::mcp_monitor::__private::Probe(&#out)).mcp_monitor_is_failure()
            };
            #guard.finish(#failed);
            #out
        }
    })
}

fn check_fn(kind: Kind, item: &ItemFn) -> syn::Result<()> {
    if let Some(constness) = &item.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            format!(
                "#[{}] cannot be applied to a `const fn`: recording reads the clock and updates shared counters, which is not possible in const evaluation",
                kind.attr_name()
            ),
        ));
    }
    if let Some(variadic) = &item.sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            format!(
                "#[{}] cannot be applied to a variadic function",
                kind.attr_name()
            ),
        ));
    }
    if let Some(dup) = item.attrs.iter().find(|a| is_monitor_attr(a)) {
        return Err(syn::Error::new_spanned(
            dup,
            format!(
                "a function can carry only one monitor attribute; it already has #[{}]",
                kind.attr_name()
            ),
        ));
    }
    Ok(())
}

/// Whether `attr` is one of ours (by its last path segment, so `mcp_monitor::x` counts too).
fn is_monitor_attr(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|seg| {
        [Kind::DbOperation, Kind::WorkflowStep, Kind::Workflow]
            .iter()
            .any(|k| seg.ident == k.attr_name())
    })
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}
