//! Typed errors for loading inputs (results files and policies).
//!
//! Owns the one error shape every loader returns: which file, where in it (line, column, key path)
//! and what was expected. It does not decide exit codes; `exit` maps errors to those.

use std::fmt;

/// Where in a file a problem sits. Every field is optional because some problems (an empty file)
/// have no position, and some formats give a line without a key path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// A dotted key path such as `metrics.error_rate` or `waivers[0].expires`.
    pub key: Option<String>,
}

/// A results file or a policy could not be read or is not valid.
///
/// Displayed as `FILE:LINE:COLUMN: KEY: MESSAGE`, the shape compilers use, so editors and CI
/// log viewers can jump to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub file: String,
    pub position: Position,
    pub message: String,
}

impl LoadError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        LoadError { file: file.into(), position: Position::default(), message: message.into() }
    }

    pub fn at(mut self, line: u64, column: u64) -> Self {
        // Parsers report column 0 for "end of line"; 0 is not a column a person can use.
        self.position.line = Some(line).filter(|&l| l > 0);
        self.position.column = Some(column).filter(|&c| c > 0);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        // serde_path_to_error writes `.` for the root and `?` where it could not tell the key.
        if !key.is_empty() && key != "." && key != "?" {
            self.position.key = Some(key);
        }
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.position.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.position.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.position.key {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}", self.message)
    }
}
