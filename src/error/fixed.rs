//! `fixed_texts!`: declares an error enum whose every variant has one fixed text. The literal is
//! written once and feeds both `Display` and `description()` (the `error_description` of the
//! challenge), so the two can never drift apart.

/// Declares `enum $name` with one literal per variant (`Variant => "text"`, or
/// `Variant(Field) => "text"` for a variant that carries a value), and implements
/// `description()`, `Display` and `std::error::Error` from those literals.
macro_rules! fixed_texts {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident $(($field:ty))? => $text:literal,
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
