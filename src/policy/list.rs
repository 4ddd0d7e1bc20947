//! `"*"` or a list: the shape of `allowed_origins`, `allowed_methods`, `allowed_headers` and
//! `expose_headers`. A hand-written visitor keeps each list item's span, which serde's
//! untagged enums would lose.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// Either "any" (`"*"` in the file) or an explicit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyOr<T> {
    Any,
    List(Vec<T>),
}

impl<T> AnyOr<T> {
    pub fn is_any(&self) -> bool {
        matches!(self, AnyOr::Any)
    }
}

/// The file form, with spans for each item.
#[derive(Debug)]
pub(crate) enum SpannedList {
    Any,
    List(Vec<(String, Range<usize>)>),
}

impl<'de> Deserialize<'de> for SpannedList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SpannedList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#""*" or a list of strings"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpannedList, E> {
                if v == "*" {
                    Ok(SpannedList::Any)
                } else {
                    Err(E::custom(format!(
                        "expected \"*\" or a list like [\"{v}\"], found the string \"{v}\""
                    )))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SpannedList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    let span = item.span();
                    out.push((item.into_inner(), span));
                }
                Ok(SpannedList::List(out))
            }
        }
        d.deserialize_any(V)
    }
}
