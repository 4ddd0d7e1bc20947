//! The JavaScript-ish values a `cors()` option may hold in the file: a boolean, a string or a
//! list of strings. A hand-written visitor keeps each list item's span (serde's untagged enums
//! would lose them), so an error points at the item, not the whole list.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug)]
pub(super) enum JsValue {
    Bool(bool),
    Str(String),
    List(Vec<(String, Range<usize>)>),
}

impl<'de> Deserialize<'de> for JsValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, a string or a list of strings")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsValue, E> {
                Ok(JsValue::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsValue, E> {
                Ok(JsValue::Str(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsValue, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    let span = item.span();
                    out.push((item.into_inner(), span));
                }
                Ok(JsValue::List(out))
            }
        }
        d.deserialize_any(V)
    }
}
