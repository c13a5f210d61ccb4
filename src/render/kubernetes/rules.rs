//! Rule files as `PrometheusRule`s: one resource per entry of `rules:` (the
//! compose target's `prometheus/rules/NAME.yml`), holding the same groups,
//! built by the same function, so both targets evaluate identical rules.

use super::monitors::API_VERSION;
use super::{Ctx, Resource};
use crate::model::Stack;
use crate::path;
use serde_json::json;

pub fn rules(ctx: &mut Ctx<'_>, out: &mut Vec<Resource>) {
    let stack: &Stack = ctx.stack;
    for (file, groups) in &stack.rules {
        let name = ctx.name("PrometheusRule", file, path!["rules", file]);
        let spec = json!({
            "groups": groups.iter().map(crate::plan::prometheus::rule_group).collect::<Vec<_>>(),
        });
        let value = ctx.object(API_VERSION, "PrometheusRule", ctx.metadata(&name), spec);
        out.push(Resource {
            kind: "PrometheusRule",
            name,
            value,
        });
    }
}
