//! `switchyard-plugin`: the SDK for switchyard transformation plugins.
//!
//! A plugin is a WebAssembly component of the world
//! `switchyard:plugin/transformer@0.1.0` (`plugins/wit/plugin.wit`). This crate
//! owns everything between that interface and the plugin's own code:
//!
//! - the [`Plugin`] trait a plugin implements, and [`export_plugin!`], which
//!   exports a type implementing it as the component (the bindings come from
//!   `wit_bindgen::generate!`, compiled only for `target_arch = "wasm32"`);
//! - [`Config`] (typed access to the target's `Config` object, with the host's
//!   `"rule"` and `"target"` keys), [`Event`] (the event's JSON text, parsed
//!   lazily), [`Outputs`] (zero, one or several events, or the original text
//!   passed through untouched), [`Delivery`] and [`TransformError`];
//! - [`path`]: dot paths such as `detail.customer.email` into JSON values;
//! - the log macros ([`trace!`], [`debug!`], [`info!`], [`warn!`], [`error!`],
//!   [`log!`]), which ask the host whether a level is enabled before formatting;
//! - `testing::Harness` (not on wasm32), which runs a plugin natively
//!   (`cargo test`) with logs kept in memory instead of sent to the host.
//!
//! A plugin is a few lines:
//!
//! ```
//! use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};
//!
//! struct Passthrough;
//!
//! impl Plugin for Passthrough {
//!     fn init(_config: Config) -> Result<Self, String> {
//!         Ok(Passthrough)
//!     }
//!     fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
//!         Ok(Outputs::pass(event))
//!     }
//! }
//!
//! switchyard_plugin::export_plugin!(Passthrough);
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release`: the component
//! is `target/wasm32-wasip2/release/<crate_name>.wasm`. A panic or trap in the
//! plugin ends the call: the host reports it with what the plugin wrote to
//! stderr (Rust's panic hook writes `panicked at FILE:LINE:COL:` and the
//! message there).

mod config;
mod error;
mod event;
pub mod log;
mod outputs;
pub mod path;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[doc(hidden)]
pub mod __private;

pub use config::{Config, kind as json_kind};
pub use error::TransformError;
pub use event::{Delivery, Event};
pub use log::Level;
pub use outputs::Outputs;
pub use serde_json;
pub use serde_json::{Map, Value, json};

/// The WIT bindings (`wit_bindgen::generate!` on `plugins/wit`), for wasm32
/// only. Plugins do not use them directly: [`export_plugin!`] does.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "transformer",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "switchyard_plugin::bindings",
    });
}

/// A transformation plugin: one value per component instance, created by
/// `init` from the target's config and then called once per event.
pub trait Plugin: Sized + 'static {
    /// Builds the plugin from its config. An `Err` rejects the rule at load,
    /// with this message: say what is wrong and what would be right.
    fn init(config: Config) -> Result<Self, String>;

    /// Transforms one event into what the target receives: [`Outputs::none`]
    /// drops it, one output rewrites it, several split it. Each output must be
    /// a JSON object.
    fn transform(&mut self, event: Event, info: Delivery) -> Result<Outputs, TransformError>;
}

/// Exports a type implementing [`Plugin`] as the component's `init` and
/// `transform`. Use it once, at the plugin crate's top level:
///
/// ```text
/// switchyard_plugin::export_plugin!(MyPlugin);
/// ```
///
/// `init` keeps the instance in a thread-local (a component instance is
/// single-threaded); `transform` before a successful `init` returns
/// `fatal`. On targets other than wasm32 it expands to nothing, so the same
/// crate builds and tests natively (see `testing::Harness`).
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            ::std::thread_local! {
                static __SWITCHYARD_INSTANCE: ::core::cell::RefCell<::core::option::Option<$plugin>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __SwitchyardComponent;

            impl $crate::bindings::Guest for __SwitchyardComponent {
                fn init(
                    config: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    __SWITCHYARD_INSTANCE
                        .with(|slot| $crate::__private::init::<$plugin>(slot, &config))
                }

                fn transform(
                    event: ::std::string::String,
                    info: $crate::bindings::Delivery,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<::std::string::String>,
                    $crate::bindings::TransformError,
                > {
                    let info = $crate::Delivery {
                        attempt: info.attempt,
                        received_ms: info.received_ms,
                    };
                    __SWITCHYARD_INSTANCE
                        .with(|slot| $crate::__private::transform::<$plugin>(slot, event, info))
                        .map_err($crate::__private::to_wit_error)
                }
            }

            $crate::bindings::export!(__SwitchyardComponent with_types_in $crate::bindings);
        };
    };
}
