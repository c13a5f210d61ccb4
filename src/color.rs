//! Whether stackctl colours what it writes, and the styles it uses. One rule
//! for every stream, the one clap applies to its own messages (anstream's):
//! `--color always|never` wins; under `auto`, `NO_COLOR` turns colour off,
//! `CLICOLOR_FORCE` on, and otherwise a terminal that supports it gets it.

use crate::cli::ColorWhen;
use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub const INFO: Style = AnsiColor::Cyan.on_default().bold();
/// The gutter of a snippet (`12 |`) and its `= help:` label.
pub const GUTTER: Style = AnsiColor::Blue.on_default().bold();
pub const EMPHASIS: Style = Style::new().bold();

/// Sets the choice for the whole process (`--color`).
pub fn set(when: ColorWhen) {
    ColorChoice::write_global(match when {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    });
}

/// Whether messages on stderr are coloured.
pub fn stderr() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// Whether data on stdout is coloured (verify's text table).
pub fn stdout() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// `text` in `style` when `on`, else as is.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// `paint` for a message on stderr.
pub fn paint_stderr(style: Style, text: &str) -> String {
    paint(stderr(), style, text)
}
