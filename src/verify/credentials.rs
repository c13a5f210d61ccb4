//! Receivers that cannot deliver: a notifier credential (SMTP password, Slack
//! webhook URL, PagerDuty routing key, webhook URL) whose secret file is
//! empty. `up` starts the stack anyway (Alertmanager loads such a receiver
//! and fails only when it sends), so verify is where CI learns it: one
//! failing check per receiver and file, named
//! "cannot deliver: `secrets/slack_webhook_url` is empty".

use super::check::Status;
use super::context::Context;
use super::probe::Probe;
use crate::check::receiver_credentials::{check_name, undeliverable};
use crate::model::Kind;

pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let empty = |name: &str| match cx.secrets.get(name) {
        Some(Ok(value)) => value.trim().is_empty(),
        _ => true,
    };
    for r in undeliverable(cx.stack, empty) {
        for file in &r.files {
            out.push(Probe::fixed(
                Kind::Alertmanager,
                vec![check_name(file)],
                Status::Fail,
                format!(
                    "receiver `{}` sends nothing until `{file}` holds its credential; fill it in and run `stackctl up`",
                    r.receiver
                ),
            ));
        }
    }
}
