"""The Kubernetes manifests render, are valid, and say what the deployment promises.

Every overlay is rendered with `kubectl kustomize` (as `kubectl apply -k` would) and each
object checked offline: built-in kinds against the Kubernetes schemas of the
`kubernetes-validate` package (strict: an unknown field fails), KEDA's ScaledObject against
its CRD schema, vendored from kedacore/keda (deploy/kubernetes/schemas/).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from workers.celery_app import QUEUE
from workers.jobs.layout import LEASES
from workers.settings import Settings
from workers.worker import QUEUES

ROOT = Path(__file__).parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES / "overlays").iterdir())
KUBERNETES_VERSION = "1.30.0"  # the oldest release still in wide use that has every kind here
WORKERS = ("worker", "short", "notifier")

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None,
    reason="kubectl is not installed (it renders the Kustomize overlays: kubectl kustomize)",
)


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def find(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in rendered(overlay) if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name} in {overlay}"
    return found[0]


def pod_specs(overlay: str) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in rendered(overlay)
        if doc["kind"] in ("Deployment", "StatefulSet", "Job")
    }


@functools.cache
def scaledobject_schema() -> dict[str, Any]:
    crd = yaml.safe_load((KUBERNETES / "schemas" / "keda.sh_scaledobjects.yaml").read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


pytestmark = needs_kubectl


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_every_overlay_is_valid(overlay: str) -> None:
    kinds = set()
    for doc in rendered(overlay):
        kinds.add(doc["kind"])
        if doc["apiVersion"] == "keda.sh/v1alpha1":
            jsonschema.validate(doc, scaledobject_schema())
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job",
            "PersistentVolumeClaim", "NetworkPolicy", "ScaledObject"} <= kinds  # fmt: skip


def test_the_validation_catches_a_mistake() -> None:
    web = find("single-redis", "Deployment", "vertaal-web")
    broken = {**web, "spec": {**web["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    scaled = find("single-redis", "ScaledObject", "vertaal-worker")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**scaled, "spec": {"triggers": []}}, scaledobject_schema())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_non_root_on_a_read_only_root_with_bounded_memory(overlay: str) -> None:
    for name, spec in pod_specs(overlay).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_a_secret_never_a_configmap(overlay: str) -> None:
    config = find(overlay, "ConfigMap", "vertaal-config")["data"]
    secret_settings = {"VERTAAL_METRICS_TOKEN", "VERTAAL_WEBHOOK_SECRET", "VERTAAL_SECRET_KEY"}
    assert not secret_settings & set(config)
    assert not any("@" in value for value in config.values()), "no password in a URL"
    specs = pod_specs(overlay)
    for name in ("web", *WORKERS):
        sources = [s for c in specs[f"vertaal-{name}"]["containers"] for s in c["envFrom"]]
        assert {"secretRef": {"name": "vertaal-secrets"}} in sources, name


def test_the_configmap_holds_only_settings_vertaal_knows() -> None:
    for overlay in OVERLAYS:
        config = find(overlay, "ConfigMap", "vertaal-config")["data"]
        names = {n.removeprefix("VERTAAL_").lower() for n in config if n.startswith("VERTAAL_")}
        assert names <= set(Settings.model_fields), names - set(Settings.model_fields)
        Settings(**{name: config[f"VERTAAL_{name.upper()}"] for name in names})


def test_every_queue_has_workers_and_a_stop_never_cuts_a_batch_short() -> None:
    specs = pod_specs("single-redis")
    taken = {}
    for name, spec in specs.items():
        command = spec["containers"][0].get("command", [])
        if command[:2] == ["vertaal", "worker"]:
            taken[command[command.index("--queues") + 1]] = name
    assert set(taken) == set(QUEUES)
    config = find("single-redis", "ConfigMap", "vertaal-config")["data"]
    article_worker = specs[taken[QUEUE]]
    assert article_worker["terminationGracePeriodSeconds"] > int(config["VERTAAL_HARD_TIME_LIMIT"])
    for name in ("vertaal-worker", "vertaal-short"):
        (models,) = [
            m for m in specs[name]["containers"][0]["volumeMounts"] if m["name"] == "models"
        ]
        assert models["readOnly"] is True, name
    job = specs["vertaal-models"]["containers"][0]
    assert "vertaal models download" in " ".join(job["command"])


def test_the_web_is_probed_and_the_worker_lives_by_its_heartbeat() -> None:
    web = find("single-redis", "Deployment", "vertaal-web")["spec"]["template"]["spec"]
    (container,) = web["containers"]
    assert container["image"].startswith("vertaal-web")
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/v1/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/ready"
    worker = find("single-redis", "Deployment", "vertaal-worker")["spec"]["template"]["spec"]
    assert worker["containers"][0]["livenessProbe"]["exec"]["command"] == [
        "vertaal", "worker-alive"
    ]  # fmt: skip


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_scale_on_every_job_accepted_and_not_ended(overlay: str) -> None:
    scaled = find(overlay, "ScaledObject", "vertaal-worker")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "vertaal-worker"
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == ("redis-sentinel" if overlay == "sentinel" else "redis")
    # The sorted set of queued and running jobs (KEDA reads a sorted set with ZCARD), not
    # kombu's list: prefetched messages leave that list.
    assert trigger["metadata"]["listName"] == LEASES
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]


def test_only_vertaal_and_keda_reach_the_in_cluster_redis() -> None:
    policy = find("single-redis", "NetworkPolicy", "vertaal-redis")["spec"]
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    (expression,) = source["podSelector"]["matchExpressions"]
    assert set(expression["values"]) == {"web", *WORKERS}
    assert find("single-redis", "NetworkPolicy", "vertaal-queue-keda")
