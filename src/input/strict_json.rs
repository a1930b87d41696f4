//! One rule for every JSON input: an object may not give a key twice. serde_json keeps the
//! last of two equal keys, so a file could say one thing to perfcert and another to a person
//! (or another tool) reading it. Readers that deserialise only part of a document run this
//! over the whole of it first; the error names the key's path, line and column.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

use crate::error::LoadError;

/// Refuses a JSON document in which any object gives a key twice.
pub fn refuse_duplicate_keys(file: &str, text: &str) -> Result<(), LoadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    match (Walk { path: String::new() }).deserialize(&mut de) {
        Ok(()) => Ok(()),
        Err(e) => {
            let message = e.to_string();
            // Only our own complaint matters here; a syntax error is the reader's to report.
            let Some(rest) = message.strip_prefix(MARK) else { return Ok(()) };
            let (path, _) = rest.split_once(" at line ").unwrap_or((rest, ""));
            Err(LoadError::new(file, format!("duplicate key `{path}`; each key may appear once"))
                .at(e.line() as u64, e.column() as u64))
        }
    }
}

const MARK: &str = "duplicate:";

struct Walk {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path) })?.is_some() {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if !seen.insert(key) {
                return Err(de::Error::custom(format!("{MARK}{path}")));
            }
            map.next_value_seed(Walk { path })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_anywhere_is_refused_with_its_path() {
        assert!(refuse_duplicate_keys("f.json", r#"[{"a": {"b": 1, "c": [1, {"d": 2}]}}]"#).is_ok());
        let e = refuse_duplicate_keys("f.json", "[{\"a\": 1},\n {\"x\": {\"5\": 1, \"5\": 2}}]").unwrap_err();
        assert_eq!(e.to_string(), "f.json:2:19: duplicate key `[1].x.5`; each key may appear once");
        // Syntax errors are left to the reader, which says more.
        assert!(refuse_duplicate_keys("f.json", "[{").is_ok());
    }
}
