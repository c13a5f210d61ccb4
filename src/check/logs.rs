//! Log sources for Alloy/Promtail: where logs come from and how they are processed.

use super::{Findings, duplicates};
use crate::model::Stack;
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    duplicates(
        found,
        "log source",
        stack
            .logs
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), path!["logs", "sources", i, "name"])),
    );
    for (i, source) in stack.logs.sources.iter().enumerate() {
        let docker = source.docker == Some(true);
        if source.paths.is_empty() && !docker {
            found.error(
                path!["logs", "sources", i],
                format!("log source `{}` reads nothing", source.name),
                "add `paths: [/var/log/app/*.log]` or `docker: true`",
            );
        }
        if !source.paths.is_empty() && docker {
            found.error(
                path!["logs", "sources", i, "docker"],
                "a log source reads `paths` or `docker`, not both",
                "split it into two sources",
            );
        }
        for (p, glob) in source.paths.iter().enumerate() {
            if !glob.starts_with('/') {
                found.error(
                    path!["logs", "sources", i, "paths", p],
                    format!("log path `{glob}` is not absolute"),
                    "paths are on the host, e.g. `/var/log/app/*.log`",
                );
            }
        }
        for (s, stage) in source.pipeline.iter().enumerate() {
            match stage.kinds_set() {
                1 => {}
                0 => found.error(
                    path!["logs", "sources", i, "pipeline", s],
                    "an empty pipeline stage",
                    "a stage is one of `json`, `regex`, `timestamp`, `labels`, `output`",
                ),
                _ => found.error(
                    path!["logs", "sources", i, "pipeline", s],
                    "a pipeline stage sets more than one kind",
                    "write each of `json`, `regex`, `timestamp`, `labels`, `output` as its own `- ` item",
                ),
            }
            if let Some(regex) = &stage.regex {
                if !regex.expression.contains("(?P<") && !regex.expression.contains("(?<") {
                    found.warning(
                        path!["logs", "sources", i, "pipeline", s, "regex", "expression"],
                        "the regex has no named groups, so it extracts nothing",
                        "name groups like `(?P<status>\\d+)`",
                    );
                }
            }
        }
    }
}
