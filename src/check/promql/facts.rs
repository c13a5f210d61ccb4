//! What a parsed expression tells the other checks: the metrics it reads, the
//! functions it calls, `le`/`quantile` matchers with integer values, and which
//! labels its result can carry (for routing alerts through Alertmanager).
//!
//! Facts are extracted right after parsing and the syntax tree is dropped, so
//! a stack with tens of thousands of rules does not keep tens of thousands of trees.

use promql_parser::label::MatchOp;
use promql_parser::parser::{
    Expr, LabelModifier, VectorMatchCardinality, VectorSelector, token, value::ValueType,
};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Metric names the expression selects, in order of appearance (with repeats removed).
    pub metrics: Vec<String>,
    /// Functions and aggregation operators that are version-dependent, e.g. `limitk`.
    pub functions: Vec<String>,
    /// `le` or `quantile` matchers comparing with an integer value: (label,
    /// value, negated: `!=`/`!~`, which then match every series instead of none).
    pub integer_buckets: Vec<(String, String, bool)>,
    pub labels: LabelsOut,
}

/// The labels an expression's result series can carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelsOut {
    /// Labels whose value is certain (from an equality matcher that survives).
    pub known: BTreeMap<String, String>,
    /// `Some(set)`: no result series has a label outside `set`.
    pub only: Option<BTreeSet<String>>,
}

impl LabelsOut {
    fn none() -> Self {
        LabelsOut {
            known: BTreeMap::new(),
            only: Some(BTreeSet::new()),
        }
    }

    fn keep(mut self, labels: &[String]) -> Self {
        self.known.retain(|k, _| labels.contains(k));
        let keep: BTreeSet<String> = labels.iter().cloned().collect();
        self.only = Some(match self.only {
            Some(only) => only.intersection(&keep).cloned().collect(),
            None => keep,
        });
        self
    }

    fn drop(mut self, labels: &[String]) -> Self {
        self.known.retain(|k, _| !labels.contains(k));
        if let Some(only) = &mut self.only {
            only.retain(|k| !labels.contains(k));
        }
        self
    }

    fn add(mut self, labels: &[String]) -> Self {
        for l in labels {
            self.known.remove(l);
            if let Some(only) = &mut self.only {
                only.insert(l.clone());
            }
        }
        self
    }

    /// Whether a label is certainly absent from every result series.
    pub fn absent(&self, label: &str) -> bool {
        !self.known.contains_key(label) && self.only.as_ref().is_some_and(|o| !o.contains(label))
    }
}

pub fn extract(expr: &Expr) -> Facts {
    let mut facts = Facts::default();
    walk(expr, &mut facts);
    facts.labels = labels_out(expr);
    facts
}

fn walk(expr: &Expr, facts: &mut Facts) {
    match expr {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            if op == "limitk" || op == "limit_ratio" {
                push_unique(&mut facts.functions, op);
            }
            walk(&a.expr, facts);
            if let Some(p) = &a.param {
                walk(p, facts);
            }
        }
        Expr::Unary(u) => walk(&u.expr, facts),
        Expr::Binary(b) => {
            walk(&b.lhs, facts);
            walk(&b.rhs, facts);
        }
        Expr::Paren(p) => walk(&p.expr, facts),
        Expr::Subquery(s) => walk(&s.expr, facts),
        Expr::VectorSelector(vs) => selector(vs, facts),
        Expr::MatrixSelector(ms) => selector(&ms.vs, facts),
        Expr::Call(c) => {
            push_unique(&mut facts.functions, c.func.name.to_string());
            for arg in &c.args.args {
                walk(arg, facts);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn selector(vs: &VectorSelector, facts: &mut Facts) {
    if let Some(name) = &vs.name {
        push_unique(&mut facts.metrics, name.clone());
    }
    let all = vs
        .matchers
        .matchers
        .iter()
        .chain(vs.matchers.or_matchers.iter().flatten());
    for m in all {
        match &m.op {
            MatchOp::Equal if m.name == "__name__" => {
                push_unique(&mut facts.metrics, m.value.clone())
            }
            MatchOp::Equal | MatchOp::NotEqual if is_bucket(&m.name) && is_integer(&m.value) => {
                let negated = matches!(m.op, MatchOp::NotEqual);
                facts
                    .integer_buckets
                    .push((m.name.clone(), m.value.clone(), negated));
            }
            MatchOp::Re(_) | MatchOp::NotRe(_)
                if is_bucket(&m.name) && m.value.split('|').any(|alt| is_integer(alt.trim())) =>
            {
                let negated = matches!(m.op, MatchOp::NotRe(_));
                facts
                    .integer_buckets
                    .push((m.name.clone(), m.value.clone(), negated));
            }
            _ => {}
        }
    }
}

fn is_bucket(label: &str) -> bool {
    label == "le" || label == "quantile"
}

/// `1`, `10`, `-5`: values Prometheus 3 no longer writes (it writes `1.0`).
fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn equality_labels(vs: &VectorSelector) -> LabelsOut {
    let known: BTreeMap<String, String> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| matches!(m.op, MatchOp::Equal) && m.name != "__name__" && !m.value.is_empty())
        .map(|m| (m.name.clone(), m.value.clone()))
        .collect();
    LabelsOut { known, only: None }
}

fn label_names(labels: &promql_parser::label::Labels) -> Vec<String> {
    labels.labels.clone()
}

fn labels_out(expr: &Expr) -> LabelsOut {
    match expr {
        Expr::VectorSelector(vs) => equality_labels(vs),
        Expr::MatrixSelector(ms) => equality_labels(&ms.vs),
        Expr::Unary(u) => labels_out(&u.expr),
        Expr::Paren(p) => labels_out(&p.expr),
        Expr::Subquery(s) => labels_out(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => LabelsOut::none(),
        Expr::Extension(_) => LabelsOut::default(),
        Expr::Aggregate(a) => {
            let inner = labels_out(&a.expr);
            let id = a.op.id();
            if [
                token::T_TOPK,
                token::T_BOTTOMK,
                token::T_LIMITK,
                token::T_LIMIT_RATIO,
            ]
            .contains(&id)
            {
                return inner;
            }
            let grouped = match &a.modifier {
                Some(LabelModifier::Include(l)) => inner.keep(&label_names(l)),
                Some(LabelModifier::Exclude(l)) => inner.drop(&label_names(l)),
                None => LabelsOut::none(),
            };
            if id == token::T_COUNT_VALUES {
                if let Some(Expr::StringLiteral(s)) = a.param.as_deref() {
                    return grouped.add(std::slice::from_ref(&s.val));
                }
                return LabelsOut::default();
            }
            grouped
        }
        Expr::Call(c) => {
            let args = &c.args.args;
            match c.func.name {
                "absent" | "absent_over_time" => match args.first().map(|a| a.as_ref()) {
                    Some(Expr::VectorSelector(vs)) => only_known(equality_labels(vs)),
                    Some(Expr::MatrixSelector(ms)) => only_known(equality_labels(&ms.vs)),
                    _ => LabelsOut::none(),
                },
                "label_replace" | "label_join" => {
                    let base = args
                        .first()
                        .map_or_else(LabelsOut::default, |a| labels_out(a));
                    match args.get(1).map(|a| a.as_ref()) {
                        Some(Expr::StringLiteral(dst)) => base.add(std::slice::from_ref(&dst.val)),
                        _ => LabelsOut::default(),
                    }
                }
                "histogram_quantile" => args.get(1).map_or_else(LabelsOut::default, |a| {
                    labels_out(a).drop(&["le".to_string()])
                }),
                _ if c.func.return_type == ValueType::Scalar => LabelsOut::none(),
                "vector" | "time" | "pi" => LabelsOut::none(),
                _ => args
                    .iter()
                    .find(|a| matches!(a.value_type(), ValueType::Vector | ValueType::Matrix))
                    .map_or_else(LabelsOut::none, |a| labels_out(a)),
            }
        }
        Expr::Binary(b) => {
            let (lt, rt) = (b.lhs.value_type(), b.rhs.value_type());
            match (lt, rt) {
                (ValueType::Scalar, ValueType::Scalar) => return LabelsOut::none(),
                (ValueType::Scalar, _) => return labels_out(&b.rhs),
                (_, ValueType::Scalar) => return labels_out(&b.lhs),
                _ => {}
            }
            let op = b.op.id();
            if op == token::T_LAND || op == token::T_LUNLESS {
                return labels_out(&b.lhs);
            }
            if op == token::T_LOR {
                return union(labels_out(&b.lhs), labels_out(&b.rhs));
            }
            let modifier = b.modifier.as_ref();
            let card = modifier.map(|m| &m.card);
            let (base, other, extra) = match card {
                Some(VectorMatchCardinality::OneToMany(l)) => {
                    (labels_out(&b.rhs), labels_out(&b.lhs), Some(l))
                }
                Some(VectorMatchCardinality::ManyToOne(l)) => {
                    (labels_out(&b.lhs), labels_out(&b.rhs), Some(l))
                }
                _ => (labels_out(&b.lhs), LabelsOut::default(), None),
            };
            let matched = match (modifier.and_then(|m| m.matching.as_ref()), extra) {
                (Some(LabelModifier::Include(l)), None) => base.keep(&label_names(l)),
                (Some(LabelModifier::Exclude(l)), None) => base.drop(&label_names(l)),
                _ => base,
            };
            match extra {
                Some(l) => {
                    let names = label_names(l);
                    let mut out = matched.add(&names);
                    for n in &names {
                        if let Some(v) = other.known.get(n) {
                            out.known.insert(n.clone(), v.clone());
                        }
                    }
                    out
                }
                None => matched,
            }
        }
    }
}

fn only_known(mut l: LabelsOut) -> LabelsOut {
    l.only = Some(l.known.keys().cloned().collect());
    l
}

fn union(a: LabelsOut, b: LabelsOut) -> LabelsOut {
    let known = a
        .known
        .iter()
        .filter(|(k, v)| b.known.get(*k) == Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let only = match (a.only, b.only) {
        (Some(x), Some(y)) => Some(x.union(&y).cloned().collect()),
        _ => None,
    };
    LabelsOut { known, only }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(expr: &str) -> Facts {
        extract(&promql_parser::parser::parse(expr).unwrap())
    }

    #[test]
    fn metrics_functions_and_buckets() {
        let f = facts(
            "histogram_quantile(0.9, sum by (le) (rate(x_bucket{le=\"1\"}[5m]))) > on() group_left limitk(1, {__name__=\"y\"})",
        );
        assert_eq!(f.metrics, vec!["x_bucket", "y"]);
        assert_eq!(f.functions, vec!["histogram_quantile", "rate", "limitk"]);
        assert_eq!(
            f.integer_buckets,
            vec![("le".to_string(), "1".to_string(), false)]
        );
        assert!(
            facts("x{le=\"1.0\", quantile=~\"0.5|0.9\"}")
                .integer_buckets
                .is_empty()
        );
        assert_eq!(facts("x{quantile=~\"1|0.5\"}").integer_buckets.len(), 1);
    }

    #[test]
    fn result_labels() {
        let l = facts("sum by (job, team) (up{team=\"ml\", env=\"prod\"}) == 0").labels;
        assert_eq!(l.known.get("team").map(String::as_str), Some("ml"));
        assert!(l.absent("env") && l.absent("severity") && !l.absent("job"));
        let l = facts("up{job=\"api\"} == 0").labels;
        assert_eq!(l.known.get("job").map(String::as_str), Some("api"));
        assert!(!l.absent("severity"));
        let l = facts("absent(up{job=\"api\"})").labels;
        assert!(l.absent("instance") && l.known.contains_key("job"));
        let l = facts("x / on(instance) y").labels;
        assert!(l.absent("job") && !l.absent("instance"));
        let l = facts("label_replace(sum(x), \"team\", \"a\", \"\", \"\")").labels;
        assert!(!l.absent("team") && l.absent("job"));
        assert!(facts("vector(1)").labels.absent("job"));
        assert!(!facts("sum(x) or y").labels.absent("job"));
    }
}
