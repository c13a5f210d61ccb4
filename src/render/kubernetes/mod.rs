//! The Kubernetes target: Prometheus Operator resources and kube-prometheus-stack
//! values from the same spec (not implemented yet).

use super::Tree;
use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::plan::Deployment;

pub struct Options<'a> {
    pub namespace: Option<&'a str>,
    pub release: Option<&'a str>,
}

/// The `kubernetes/` tree, plus a finding for everything the spec expresses
/// that has no Kubernetes equivalent.
pub fn tree(
    stack: &Stack,
    deployment: &Deployment,
    opts: &Options<'_>,
) -> anyhow::Result<(Tree, Vec<Diagnostic>)> {
    let _ = (stack, deployment, opts.namespace, opts.release);
    anyhow::bail!("`--target kubernetes` is not implemented yet")
}
