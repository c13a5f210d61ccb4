//! What an import did with each item it read: kept as is, modernised, or
//! could not be expressed in stack.yaml — always with the source position.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Imported without change.
    AsIs,
    /// Imported, but changed to the current form (the note says how).
    Modernised,
    /// Not in stack.yaml: stackctl has no place for it.
    NotExpressed,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub outcome: Outcome,
    pub file: String,
    pub line: usize,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.text)
        } else {
            write!(f, "{}: {}", self.file, self.text)
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub notes: Vec<Note>,
}

impl Report {
    pub fn add(&mut self, outcome: Outcome, file: &str, line: usize, text: impl Into<String>) {
        self.notes.push(Note {
            outcome,
            file: file.to_string(),
            line,
            text: text.into(),
        });
    }

    pub fn of(&self, outcome: Outcome) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(move |n| n.outcome == outcome)
    }

    /// The report as printed by `stackctl import`, one section per outcome.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (outcome, title) in [
            (Outcome::AsIs, "imported as is"),
            (Outcome::Modernised, "modernised"),
            (
                Outcome::NotExpressed,
                "could not be expressed (not in stack.yaml)",
            ),
        ] {
            let mut notes: Vec<&Note> = self.of(outcome).collect();
            notes.sort_by(|a, b| (&a.file, a.line, &a.text).cmp(&(&b.file, b.line, &b.text)));
            out.push_str(&format!("{title}: {}\n", notes.len()));
            for n in notes {
                out.push_str(&format!("  {n}\n"));
            }
        }
        out
    }
}
