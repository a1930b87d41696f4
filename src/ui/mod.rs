//! What a command may say and where: stdout (what was asked for, buffered, written once),
//! stderr (notes, warnings, details), colour, `--quiet` / `--verbose`, and on a GitHub Actions
//! runner the step summary, step outputs and annotations. Commands never print directly.
//!
//! A closed stdout (`perfcert compare | head -1`) is not an error; any other failed write to
//! stdout is exit 3 (storage), decided here once.

pub mod password;
pub mod progress;

use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::exit::Failure;
use crate::github;
use crate::options::{Color, Global};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Ui {
    pub color: bool,
    pub verbosity: Verbosity,
    /// Set on a GitHub Actions runner unless `--no-github`.
    pub github: Option<GitHub>,
}

impl Ui {
    pub fn new(global: &Global) -> Ui {
        let verbosity = match (global.quiet, global.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        };
        Ui { color: use_color(global.color), verbosity, github: GitHub::detect(global.no_github) }
    }

    pub fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// Writes what the user asked for (a report, a JSON result) to stdout, through one buffer
    /// flushed at the end: a multi-megabyte report is a handful of system calls.
    pub fn output(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
        let stdout = io::stdout();
        let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        let written = write(&mut out).and_then(|()| out.flush());
        match written {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => {
                Err(Failure::external(anyhow::anyhow!("cannot write to stdout: {}", crate::fsutil::io_reason(&e))))
            }
            Ok(()) => Ok(()),
        }
    }

    /// Like [`Ui::output`], for what people read (paths written, a listing): not with `--quiet`.
    pub fn say(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
        if self.quiet() { Ok(()) } else { self.output(write) }
    }

    /// A line for people on stderr (not with `--quiet`).
    pub fn note(&self, text: &str) {
        if self.verbosity >= Verbosity::Normal {
            let _ = writeln!(io::stderr().lock(), "{text}");
        }
    }

    /// `error: TEXT` on stderr, even with `--quiet`: a failure the run goes on after (its exit
    /// code says something else, e.g. bake's 6 when CodeDeploy could not be asked to stop).
    pub fn error(&self, text: &str) {
        let _ = writeln!(io::stderr().lock(), "error: {text}");
    }

    /// `warning: TEXT` on stderr (not with `--quiet`).
    pub fn warn(&self, text: &str) {
        self.note(&format!("warning: {text}"));
    }

    /// `warning: TEXT` on stderr even with `--quiet`: something failed that does not change
    /// the exit code (a notification), so the exit code cannot tell it.
    pub fn problem(&self, text: &str) {
        let _ = writeln!(io::stderr().lock(), "warning: {text}");
    }

    /// A detail only `--verbose` shows, on stderr.
    pub fn detail(&self, text: &str) {
        if self.verbosity == Verbosity::Verbose {
            let _ = writeln!(io::stderr().lock(), "{text}");
        }
    }
}

/// The paste-the-code sign-in (`approve --oidc-issuer`): the link to open on any device, on
/// stderr (stdout stays the result's), even with `--quiet`: the person must see it.
pub fn sign_in_link(issuer: &str, url: &str) {
    let _ = writeln!(
        io::stderr().lock(),
        "Sign in with {issuer}: open this link on any device with a browser:\n\n  {url}\n"
    );
}

/// Reads the code the issuer showed after sign-in, one line from stdin.
pub fn read_pasted_code() -> io::Result<String> {
    let _ = write!(io::stderr().lock(), "Then paste the code it shows here: ");
    let _ = io::stderr().flush();
    let mut code = String::new();
    io::stdin().read_line(&mut code)?;
    Ok(code)
}

/// How a listing of uploads says what each put did, aligned with `certificate ` / `bundle      `.
pub fn uploaded(put: crate::store::Put) -> &'static str {
    match put {
        crate::store::Put::Created => "uploaded    ",
        crate::store::Put::AlreadyThere => "already in S3",
    }
}

/// Whether stdout gets ANSI colour: `always`/`never` as asked; `auto` only on a terminal and
/// only when `NO_COLOR` is unset or empty (<https://no-color.org>).
fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// The GitHub Actions runner's files, found through its environment variables.
pub struct GitHub {
    summary: Option<PathBuf>,
    output: Option<PathBuf>,
}

impl GitHub {
    /// `GITHUB_ACTIONS=true`, unless turned off with `--no-github` / `PERFCERT_NO_GITHUB`.
    fn detect(disabled: bool) -> Option<GitHub> {
        if disabled || std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
            return None;
        }
        let path = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Some(GitHub { summary: path("GITHUB_STEP_SUMMARY"), output: path("GITHUB_OUTPUT") })
    }

    /// Prints workflow-command annotations. They go to stderr, which the runner reads as it
    /// reads stdout, so that stdout keeps only what was asked for (a JSON report, say).
    pub fn annotate(&self, lines: &[String]) {
        let mut err = io::stderr().lock();
        for line in lines {
            let _ = writeln!(err, "{line}");
        }
    }

    /// Appends Markdown to the job's summary page.
    pub fn summary(&self, ui: &Ui, markdown: &str) {
        if let Some(path) = &self.summary {
            self.append(ui, path, "GITHUB_STEP_SUMMARY", markdown);
        }
    }

    /// Sets step outputs (`steps.ID.outputs.NAME`).
    pub fn outputs(&self, ui: &Ui, outputs: &[(&str, String)]) {
        if let Some(path) = &self.output {
            let text: String = outputs.iter().map(|(name, value)| github::output(name, value)).collect();
            self.append(ui, path, "GITHUB_OUTPUT", &text);
        }
    }

    /// Appends to a runner file. Failing to is a warning: the exit code still carries the verdict.
    fn append(&self, ui: &Ui, path: &Path, variable: &str, text: &str) {
        let written =
            OpenOptions::new().append(true).create(true).open(path).and_then(|mut f| f.write_all(text.as_bytes()));
        match written {
            Ok(()) => ui.detail(&format!("appended to {variable} ({})", path.display())),
            Err(e) => {
                let message = format!("{variable} {}: cannot append: {}", path.display(), crate::fsutil::io_reason(&e));
                ui.warn(&message);
                self.annotate(&[github::annotation(github::Level::Warning, "perfcert", &message)]);
            }
        }
    }
}
