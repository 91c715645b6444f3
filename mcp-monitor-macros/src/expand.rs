//! Code generation: wraps a function body in a runtime guard.
//!
//! The expansion is deliberately thin. It declares one `static` call site holding the
//! literal labels, starts a guard from it with the call's span
//! (`::mcp_monitor::__private::call_span!`, a `macro_rules!` macro whose definition
//! depends on the runtime's `tracing` feature, which a proc macro cannot see), runs the
//! user's body through the guard (an `async move` block for `async fn`, a `FnOnce`
//! closure otherwise, so that `return` and `?` are captured), classifies the value,
//! and hands it back. Everything that records lives in `::mcp_monitor::__private`,
//! where it is ordinary, type-checked, unit-tested code.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
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

    // Inner attributes of the body (`#![allow(..)]`) are in `attrs` (syn puts them
    // there): they go back inside the function, at the top of the body we write.
    let (attrs, inner) = split_attrs(attrs);
    let site_ty = match kind {
        Kind::DbOperation => quote!(DbSite),
        Kind::WorkflowStep => quote!(StepSite),
        Kind::Workflow => quote!(RunSite),
    };
    let values = &labels.values;
    if let Some((shape, output)) = future_shape(&sig) {
        // The output type annotates the outcome probe: the future's own output type
        // may not be inferred yet where the probe is type-checked (`async { Ok(()) }`
        // learns its error type from the declared return type only).
        let output = output
            .filter(|ty| !contains_impl_trait(ty))
            .map(|ty| quote!(#ty));
        let attrs = attrs.into_iter().chain(inner).collect();
        let item = ItemFn {
            attrs,
            vis,
            sig: sig.clone(),
            block,
        };
        return Ok(expand_future_fn(
            kind, shape, output, &site_ty, values, item,
        ));
    }
    let guard = quote::format_ident!("guard", span = Span::mixed_site());
    let out = quote::format_ident!("out", span = Span::mixed_site());
    let failed = quote::format_ident!("failed", span = Span::mixed_site());

    // The body's type is the declared return type from the start, as in a plain fn: so a
    // `return`, `?` or tail expression is checked (and coerced, to `Box<dyn Error>`, `&[T]`
    // and the like) against it, and a mismatch is reported on the user's expression with
    // "expected because of return type" on the user's return type. `impl Trait` cannot be
    // written in a closure or a `let`, so there the body's own type is used.
    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) && !is_never(&sig.output) => {
            Some(&**ty)
        }
        _ => None,
    };
    let annotation = ret_ty.map(|ty| quote!(: #ty)).unwrap_or_default();

    let body_span = block.brace_token.span.join();
    let run_body = if sig.asyncness.is_some() {
        // An `async` block cannot name its output type; a `return` of the declared type
        // that never runs, placed before the body, fixes it (as `tracing` does).
        let fake_return = ret_ty.map(|ty| {
            // Spanned at the user's return type, so that "return type inferred to be `T`
            // here" points there. The name cannot clash: the user's body is a later scope.
            let fake = Ident::new("__mcp_monitor_return", ty.span());
            quote_spanned! {ty.span()=>
                #[allow(
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::empty_loop,
                    clippy::let_unit_value,
                    clippy::needless_return
                )]
                if false {
                    let #fake: #ty = loop {};
                    return #fake;
                }
            }
        });
        let body = quote_spanned!(body_span=> async move { #fake_return #block });
        if kind == Kind::Workflow {
            quote_spanned! {body_span=>
                ::mcp_monitor::__private::Guard::instrument(
                    &#guard,
                    ::mcp_monitor::__private::InRun::new(::mcp_monitor::__private::Guard::workflow(&#guard), #body),
                )
                .await
            }
        } else {
            quote_spanned! {body_span=>
                ::mcp_monitor::__private::Guard::instrument(&#guard, #body).await
            }
        }
    } else {
        let arrow = ret_ty.map(|ty| quote!(-> #ty));
        call_body(kind, &guard, body_span, &block, arrow)
    };

    if is_never(&sig.output) {
        // `-> !`: the body never returns, so there is no value to classify; the guard
        // records a panic as it unwinds. The guard is still named so that it is dropped
        // only then, and its name starts with `_` because nothing else reads it.
        let guard = Ident::new("_guard", Span::mixed_site());
        let run_body = call_body(kind, &guard, body_span, &block, Some(quote!(-> !)));
        let start = start_guard(kind, &guard, &site_ty, values);
        return Ok(quote! {
            #(#attrs)*
            #vis #sig {
                #(#inner)*
                #start
                #run_body
            }
        });
    }

    let start = start_guard(kind, &guard, &site_ty, values);
    let classify = classify(&quote!(&#out));
    let name = fn_name(&sig.ident);
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #(#inner)*
            #start
            let #out #annotation = #run_body;
            {
                #[allow(unused_imports)]
                use ::mcp_monitor::__private::{CheckHiddenFuture as _, CheckNoFuture as _};
                (&::mcp_monitor::__private::FutureProbe(&#out))
                    .mcp_monitor_check_future(&#guard, #name);
            }
            let #failed = #classify;
            ::mcp_monitor::__private::Guard::finish(#guard, #failed);
            #out
        }
    })
}

/// `module::function`, for messages logged at run time.
fn fn_name(ident: &Ident) -> TokenStream {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    quote!(::core::concat!(::core::module_path!(), "::", #name))
}

/// Whether the value that `out` refers to counts as a failure: the
/// autoref-specialised probe, most specific impl first.
fn classify(out: &TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use ::mcp_monitor::__private::{
            OutcomeOfAny as _, OutcomeOfClassified as _, OutcomeOfResult as _,
        };
        (&&::mcp_monitor::__private::Probe(#out)).mcp_monitor_is_failure()
    }}
}

/// How a plain `fn` returns a future that the macro can see in its signature.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FutureShape {
    /// `impl Future<Output = T> (+ ..)`: the future is returned wrapped, unboxed.
    Impl,
    /// `Pin<Box<dyn Future<Output = T> (+ ..)>>`, `BoxFuture<'_, T>`,
    /// `LocalBoxFuture<'_, T>` (what `async-trait` expands to): boxed again around
    /// the wrapper, or, for a body that is `Box::pin(expr)`, the wrapper boxed in
    /// its place.
    Boxed,
}

/// The future shape of a non-`async` function's declared return type and the
/// future's declared output type, if any.
fn future_shape(sig: &syn::Signature) -> Option<(FutureShape, Option<&Type>)> {
    if sig.asyncness.is_some() {
        return None;
    }
    let ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    match strip_parens(ty) {
        Type::ImplTrait(t) => {
            let output = future_output(t.bounds.iter())?;
            Some((FutureShape::Impl, output))
        }
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                return Some((FutureShape::Boxed, single_type_arg(&last.arguments)));
            }
            if last.ident != "Pin" {
                return None;
            }
            let Type::Path(b) = strip_parens(single_type_arg(&last.arguments)?) else {
                return None;
            };
            let last = b.path.segments.last()?;
            if last.ident != "Box" {
                return None;
            }
            match strip_parens(single_type_arg(&last.arguments)?) {
                Type::TraitObject(o) => {
                    let output = future_output(o.bounds.iter())?;
                    Some((FutureShape::Boxed, output))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn single_type_arg(args: &syn::PathArguments) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(a) = args else {
        return None;
    };
    let mut types = a.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

/// Among `bounds`, a `Future` bound: `Some(Some(T))` for `Future<Output = T>`,
/// `Some(None)` for a `Future` whose output is not spelled out; `None` when there is
/// no `Future` bound.
fn future_output<'a>(
    mut bounds: impl Iterator<Item = &'a syn::TypeParamBound>,
) -> Option<Option<&'a Type>> {
    let future = bounds.find_map(|b| match b {
        syn::TypeParamBound::Trait(t) => t.path.segments.last().filter(|s| s.ident == "Future"),
        _ => None,
    })?;
    let syn::PathArguments::AngleBracketed(a) = &future.arguments else {
        return Some(None);
    };
    Some(a.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::AssocType(t) if t.ident == "Output" => Some(&t.ty),
        _ => None,
    }))
}

/// For a body that is exactly `Box::pin(expr)` (the shape `async-trait` writes, and the
/// usual hand-written one), `expr`: the macro then boxes its wrapper in place of the
/// user's future instead of boxing twice. Like `tracing-attributes`, it recognises the
/// call by its path (`Box::pin`, `std::boxed::Box::pin`, `::alloc::boxed::Box::pin`).
fn boxed_pin_arg(block: &syn::Block) -> Option<&syn::Expr> {
    let [syn::Stmt::Expr(syn::Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let syn::Expr::Path(func) = &*call.func else {
        return None;
    };
    let segs: Vec<_> = func.path.segments.iter().collect();
    let [.., b, p] = segs.as_slice() else {
        return None;
    };
    if b.ident != "Box" || p.ident != "pin" || call.args.len() != 1 {
        return None;
    }
    call.args.first()
}

/// Expands a plain `fn` that returns a future of `shape`: the guard starts at the
/// call, moves into a [`Monitored`] wrapper around the returned future, and records
/// when that future completes (with its output's outcome) or is dropped.
fn expand_future_fn(
    kind: Kind,
    shape: FutureShape,
    output: Option<TokenStream>,
    site_ty: &TokenStream,
    values: &[syn::LitStr],
    item: ItemFn,
) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    let (attrs, inner) = split_attrs(attrs);
    let guard = quote::format_ident!("guard", span = Span::mixed_site());
    let fut = quote::format_ident!("fut", span = Span::mixed_site());
    let out = quote::format_ident!("out", span = Span::mixed_site());
    let start = start_guard(kind, &guard, site_ty, values);
    let body_span = block.brace_token.span.join();
    let classify = {
        let probe = classify(&quote!(#out));
        let ty = output.map(|ty| quote!(: &#ty));
        quote!(|#out #ty| #probe)
    };
    // A run's future is polled as part of the run, and so is the call that makes it.
    let wrap = if kind == Kind::Workflow {
        quote!(let #fut = ::mcp_monitor::__private::InRun::new(::mcp_monitor::__private::Guard::workflow(&#guard), #fut);)
    } else {
        TokenStream::new()
    };
    let make_fut = |ret: Option<&Type>| {
        let arrow = ret.map(|ty| quote!(-> #ty));
        call_body(kind, &guard, body_span, &block, arrow)
    };
    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) => Some(&**ty),
        ReturnType::Default => None,
    };
    let made = match (shape, boxed_pin_arg(&block)) {
        (FutureShape::Impl, _) => make_fut(None),
        (FutureShape::Boxed, Some(inner)) => quote!(#inner),
        (FutureShape::Boxed, None) => make_fut(ret_ty),
    };
    let monitored = quote!(::mcp_monitor::__private::Monitored::new(#guard, #fut, #classify));
    let tail = match shape {
        FutureShape::Impl => monitored,
        FutureShape::Boxed => quote!(::std::boxed::Box::pin(#monitored)),
    };
    let tail = quote! {
        let #fut = #made;
        #wrap
        #tail
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #(#inner)*
            #start
            #tail
        }
    }
}

/// The outer attributes (kept on the function) and the inner ones (`#![..]` at the
/// top of the body, which syn lists with them; they go back inside the body).
fn split_attrs(attrs: Vec<Attribute>) -> (Vec<Attribute>, Vec<Attribute>) {
    attrs
        .into_iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Outer))
}

/// The synchronous call of a body, inside the guard's span: `Guard::call(&guard, move
/// || <arrow> { body })`, or `Guard::call_in_run` for a run, so that its steps do not
/// count it twice. The `FnOnce` closure captures `return` and `?`; `arrow` is the
/// declared return type where it can be written (`-> T`, `-> !`), absent for
/// `impl Trait`.
fn call_body(
    kind: Kind,
    guard: &Ident,
    body_span: Span,
    block: &syn::Block,
    arrow: Option<TokenStream>,
) -> TokenStream {
    let body = quote_spanned!(body_span=> move || #arrow #block);
    if kind == Kind::Workflow {
        quote_spanned!(body_span=> ::mcp_monitor::__private::Guard::call_in_run(&#guard, #body))
    } else {
        quote_spanned!(body_span=> ::mcp_monitor::__private::Guard::call(&#guard, #body))
    }
}

/// `let guard = { static SITE: <site> = <site>::new(labels); SITE.start(span) };`:
/// the one `static` per function, scoped to a block so the body cannot see it, and
/// the call's span (`call_span!(db "op" "table")`, which is a `tracing` span with one
/// static callsite per function when the runtime has its `tracing` feature, and a
/// zero-sized value otherwise). The expansion calls the runtime's methods by path
/// (`Guard::call(&guard, ..)`), so that no trait of the user's with a method of the
/// same name (`tracing::Instrument::instrument`) is picked instead.
fn start_guard(
    kind: Kind,
    guard: &Ident,
    site_ty: &TokenStream,
    values: &[syn::LitStr],
) -> TokenStream {
    let span_kind = match kind {
        Kind::DbOperation => quote!(db),
        Kind::WorkflowStep => quote!(step),
        Kind::Workflow => quote!(run),
    };
    quote! {
        let #guard = {
            static SITE: ::mcp_monitor::__private::#site_ty =
                ::mcp_monitor::__private::#site_ty::new(#(#values),*);
            ::mcp_monitor::__private::#site_ty::start(
                &SITE,
                ::mcp_monitor::__private::call_span!(#span_kind #(#values)*),
            )
        };
    }
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
    if let (Some(_), ReturnType::Type(_, ty)) = (&item.sig.asyncness, &item.sig.output) {
        if is_never(&item.sig.output) {
            return Err(syn::Error::new_spanned(
                ty,
                format!(
                    "#[{}] does not support an `async fn` returning `!`; return `std::convert::Infallible` (or `Result<Infallible, E>`) instead",
                    kind.attr_name()
                ),
            ));
        }
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
    if let Some((dup, dup_kind)) = item
        .attrs
        .iter()
        .find_map(|a| monitor_kind(a).map(|k| (a, k)))
    {
        let msg = if dup_kind == kind {
            format!(
                "#[{}] is applied twice to this function; remove one",
                kind.attr_name()
            )
        } else {
            format!(
                "#[{}] cannot be combined with #[{}]: a function can carry only one monitor attribute",
                dup_kind.attr_name(),
                kind.attr_name()
            )
        };
        return Err(syn::Error::new_spanned(dup, msg));
    }
    Ok(())
}

/// Which monitor attribute `attr` is, if one of ours (by its last path segment, so
/// `mcp_monitor::x` counts too).
fn monitor_kind(attr: &Attribute) -> Option<Kind> {
    let seg = attr.path().segments.last()?;
    [Kind::DbOperation, Kind::WorkflowStep, Kind::Workflow]
        .into_iter()
        .find(|k| seg.ident == k.attr_name())
}

/// Whether the function is declared to return `!`.
fn is_never(output: &ReturnType) -> bool {
    match output {
        ReturnType::Type(_, ty) => matches!(strip_parens(ty), Type::Never(_)),
        ReturnType::Default => false,
    }
}

fn strip_parens(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip_parens(&p.elem),
        Type::Group(g) => strip_parens(&g.elem),
        other => other,
    }
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
