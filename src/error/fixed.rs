//! `fixed_texts!`: declares an error enum whose every variant states, in one place, its HTTP
//! status, its error code and its one fixed text. The literal is written once and feeds both
//! `Display` and `description()` (the `error_description` of the challenge), so the two can
//! never drift apart; a new variant without a status and code does not compile.

/// Declares `enum $name` with, per variant, `Variant => (STATUS, code) "text"` (or
/// `Variant(Field) => ..` for a variant that carries a value): `STATUS` an
/// [`http::StatusCode`] constant, `code` the RFC 6750 / 9449 / 9470 error code (`None`, or
/// `Some("...")`). Implements `status()`, `code()`, `name()`, `description()`, `Display` and
/// `std::error::Error` from them.
macro_rules! fixed_texts {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident $(($field:ty))? => ($status:ident, $code:expr) $text:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant $(($field))?,
            )*
        }

        impl $name {
            /// The HTTP status this reason is answered with.
            pub fn status(&self) -> ::http::StatusCode {
                match self {
                    $( $name::$variant $(($crate::error::fixed_texts!(@any $field)))? => ::http::StatusCode::$status, )*
                }
            }

            /// The error code of the challenge (`error="..."`), if the answer carries one.
            pub fn code(&self) -> Option<&'static str> {
                match self {
                    $( $name::$variant $(($crate::error::fixed_texts!(@any $field)))? => $code, )*
                }
            }

            /// The variant's name (`"Expired"`, `"Replayed"`…): a stable, bounded label for
            /// metrics and logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $( $name::$variant $(($crate::error::fixed_texts!(@any $field)))? => stringify!($variant), )*
                }
            }

            /// The fixed text of this reason: the `error_description` sent to the client, and
            /// the `Display` text. It never carries anything taken from the request.
            pub fn description(&self) -> &'static str {
                match self {
                    $( $name::$variant $(($crate::error::fixed_texts!(@any $field)))? => $text, )*
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.description())
            }
        }

        impl ::std::error::Error for $name {}
    };
    (@any $field:ty) => { _ };
}

pub(crate) use fixed_texts;
