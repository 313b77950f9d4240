"""The sink filter, evaluated by Terraform itself (modules/log-filter has no provider, so
`terraform console` runs offline), then applied to sample LogEntries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from tests.terraform.hcl import TF_DIR, Module, expr
from tests.terraform.lql import matches

TERRAFORM = shutil.which("terraform")
MODULE_DIR = TF_DIR / "modules" / "log-filter"
NAMES = ["logexport-ingest", "logexport-drain"]

pytestmark = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")


def _console(expression: str, **variables: Any) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    args = [TERRAFORM, f"-chdir={MODULE_DIR}", "console"]
    variables.setdefault("excluded_function_names", NAMES)
    for name, value in variables.items():
        args += ["-var", f"{name}={json.dumps(value) if not isinstance(value, str) else value}"]
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(args, input=expression, capture_output=True, text=True, env=env, timeout=60, check=False)


def effective_filter(**variables: Any) -> str:
    result = _console("local.effective_filter", **variables)
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout.strip())
    assert isinstance(value, str)
    return value


SELF_EXCLUSION = (
    '(resource.type="cloud_run_revision" AND (resource.labels.service_name="logexport-ingest" OR '
    'resource.labels.service_name="logexport-drain")) OR (resource.type="cloud_function" AND '
    '(resource.labels.function_name="logexport-ingest" OR resource.labels.function_name="logexport-drain")) '
    "OR labels.logexport_component:*"
)

LB_REQUEST = {
    "logName": "projects/p/logs/requests",
    "resource": {"type": "http_load_balancer", "labels": {"project_id": "p"}},
    "httpRequest": {"requestMethod": "GET", "status": 200},
}
NGINX_STDOUT = {
    "logName": "projects/p/logs/stdout",
    "resource": {"type": "k8s_container", "labels": {"namespace_name": "default", "container_name": "nginx"}},
    "textPayload": '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"\n',
}
NGINX_STDERR = {**NGINX_STDOUT, "logName": "projects/p/logs/stderr"}
OTHER_NAMESPACE = {**NGINX_STDOUT, "resource": {"type": "k8s_container", "labels": {"namespace_name": "monitoring"}}}
APP_ENGINE = {
    "logName": "projects/p/logs/appengine.googleapis.com%2Frequest_log",
    "resource": {"type": "gae_app"},
    "protoPayload": {"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog", "status": 200},
}
# Cloud Run's request log for a push to our own ingest function: the feedback loop.
OWN_PUSH_REQUEST = {
    "logName": "projects/p/logs/run.googleapis.com%2Frequests",
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "logexport-ingest"}},
    "httpRequest": {"requestMethod": "POST", "status": 204},
}
OWN_SCHEDULER_CALL = {
    **OWN_PUSH_REQUEST,
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "logexport-drain"}},
}
OWN_FUNCTION_LOG = {
    "logName": "projects/p/logs/cloudfunctions.googleapis.com%2Fcloud-functions",
    "resource": {"type": "cloud_function", "labels": {"function_name": "logexport-ingest"}},
    "httpRequest": {"status": 500},
}
OWN_STRUCTURED_LOG = {**LB_REQUEST, "labels": {"logexport_component": "ingest"}}
OTHER_CLOUD_RUN = {
    **OWN_PUSH_REQUEST,
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "blog-api"}},
}
AUDIT_LOG = {
    "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
    "resource": {"type": "gce_instance"},
    "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "request": {"httpRequest": {}}},
}


def test_default_filter_text() -> None:
    assert effective_filter() == (
        '(httpRequest:* OR protoPayload.@type="type.googleapis.com/google.appengine.logging.v1.RequestLog" OR '
        '(resource.type="k8s_container" AND log_id("stdout") AND (resource.labels.namespace_name="default"))) '
        f"AND NOT ({SELF_EXCLUSION})"
    )


@pytest.mark.parametrize(
    ("entry", "selected"),
    [
        (LB_REQUEST, True),
        (NGINX_STDOUT, True),
        (APP_ENGINE, True),
        (OTHER_CLOUD_RUN, True),
        (NGINX_STDERR, False),
        (OTHER_NAMESPACE, False),
        (AUDIT_LOG, False),
        (OWN_PUSH_REQUEST, False),
        (OWN_SCHEDULER_CALL, False),
        (OWN_FUNCTION_LOG, False),
        (OWN_STRUCTURED_LOG, False),
    ],
)
def test_default_filter_selects_requests_but_never_our_own_logs(entry: dict[str, Any], selected: bool) -> None:
    assert matches(effective_filter(), entry) is selected


def test_user_filter_cannot_drop_the_self_exclusion() -> None:
    text = effective_filter(log_filter='resource.type="cloud_run_revision"')
    assert text == f'(resource.type="cloud_run_revision") AND NOT ({SELF_EXCLUSION})'
    assert matches(text, OTHER_CLOUD_RUN)
    assert not matches(text, OWN_PUSH_REQUEST)


def test_namespaces_and_no_namespaces() -> None:
    several = effective_filter(gke_namespaces=["blog", "ingress-nginx"])
    assert '(resource.labels.namespace_name="blog" OR resource.labels.namespace_name="ingress-nginx")' in several
    blog = {**NGINX_STDOUT, "resource": {"type": "k8s_container", "labels": {"namespace_name": "blog"}}}
    assert matches(several, blog)
    assert not matches(several, NGINX_STDOUT)
    none = effective_filter(gke_namespaces=[])
    assert "k8s_container" not in none
    assert not matches(none, NGINX_STDOUT)
    assert matches(none, LB_REQUEST)


def test_invalid_namespace_is_rejected() -> None:
    result = _console("local.effective_filter", gke_namespaces=["Not_Valid"])
    assert result.returncode != 0
    assert "RFC 1123" in result.stderr


def test_evaluator_respects_logging_precedence() -> None:
    # In the Logging query language OR binds tighter than AND: a AND b OR c == a AND (b OR c).
    entry = {"a": "1", "b": "0", "c": "1"}
    assert matches('a="1" AND b="1" OR c="1"', entry)
    assert not matches('a="0" AND b="1" OR c="1"', entry)
    assert not matches('NOT a="1"', entry)


def test_root_module_names_match_the_excluded_names(root: Module) -> None:
    assert root.local("ingest_function_name") == "${var.name_prefix}-ingest"
    assert root.local("drain_function_name") == "${var.name_prefix}-drain"
    assert root.variables["name_prefix"]["default"] == "logexport"
    assert [f"logexport-{n}" for n in ("ingest", "drain")] == NAMES
    assert expr(root.modules["log_filter"]["gke_namespaces"]) == "var.gke_namespaces"
