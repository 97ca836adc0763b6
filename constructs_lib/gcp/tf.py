"""The only module that imports cdktf and the prebuilt Google provider.

HashiCorp archived CDK for Terraform on 2025-12-10; ``cdktf`` 0.21.0 and
``cdktf-cdktf-provider-google`` 16.12.1 (google provider 6.50.0) are the last
releases. Everything else in the repository imports these names from here
(``from constructs_lib.gcp import tf``), so moving to the maintained fork
(CDK Terrain, ``cdktn``) is a change to this file (and to the npm package
name in ``lazy_index.py``).
``tests/gcp/test_tf_facade.py`` greps the repository to keep it that way.

The provider package's own ``__init__`` imports all ~1,470 submodules through
jsii (8-18 s on this machine). This module never runs it: on first use of a
provider name it registers the package without executing its ``__init__``,
loads the jsii assembly once (``<package>._jsii``), and imports only the
submodules named in ``PROVIDER_SUBMODULES``, each on first attribute access
(PEP 562 module ``__getattr__``). Callers keep writing
``tf.storage_bucket.StorageBucket``. The JavaScript half (the npm package's
index requires every submodule too) is ``lazy_index.py``.
``GCP_PROVIDER_LOADING=eager`` restores the whole import;
``tests/gcp/test_tf_lazy.py`` proves the Terraform JSON is byte for byte
what that produces.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import importlib.util
import shutil
import sys
import tempfile
import threading
import weakref
from types import ModuleType
from typing import Any, Iterable

from constructs_lib.gcp import lazy_index

# The first jsii import of the process starts the kernel: with the preload.
with lazy_index.kernel_environment():
    from constructs import Construct
    from cdktf import (
        App,
        DataResource,
        Fn,
        GcsBackend,
        LocalBackend,
        LocalExecProvisioner,
        TerraformLocal,
        TerraformOutput,
        TerraformResource,
        TerraformResourceLifecycle,
        TerraformStack,
        Testing as _CdktfTesting,
        Token,
    )

# The name of the provider's Python package (the one line to change for a fork).
PROVIDER_PACKAGE = "cdktf_cdktf_provider_google"

# The provider submodules the stacks use. Adding one is this one line (keep
# them alphabetical); it is then ``tf.<name>``, loaded on first use.
PROVIDER_SUBMODULES = (
    "artifact_registry_repository",
    "billing_budget",
    "cloud_run_v2_job",
    "cloud_run_v2_service",
    "cloud_run_v2_service_iam_member",
    "compute_address",
    "compute_backend_bucket",
    "compute_backend_service",
    "compute_firewall",
    "compute_global_address",
    "compute_global_forwarding_rule",
    "compute_health_check",
    "compute_instance",
    "compute_instance_group",
    "compute_managed_ssl_certificate",
    "compute_network",
    "compute_region_network_endpoint_group",
    "compute_ssl_policy",
    "compute_subnetwork",
    "compute_target_http_proxy",
    "compute_target_https_proxy",
    "compute_target_ssl_proxy",
    "compute_url_map",
    "data_google_project",
    "data_google_secret_manager_secret_version",
    "data_google_storage_project_service_account",
    "firestore_backup_schedule",
    "firestore_database",
    "iam_workload_identity_pool",
    "iam_workload_identity_pool_provider",
    "kms_crypto_key",
    "kms_crypto_key_iam_member",
    "kms_key_ring",
    "logging_metric",
    "logging_project_bucket_config",
    "monitoring_alert_policy",
    "monitoring_custom_service",
    "monitoring_dashboard",
    "monitoring_notification_channel",
    "monitoring_slo",
    "monitoring_uptime_check_config",
    "project_iam_audit_config",
    "project_iam_custom_role",
    "project_iam_member",
    "project_service",
    "provider",
    "redis_instance",
    "secret_manager_secret",
    "secret_manager_secret_iam_member",
    "secret_manager_secret_version",
    "service_account",
    "service_account_iam_member",
    "service_networking_connection",
    "sql_database",
    "sql_database_instance",
    "sql_user",
    "storage_bucket",
    "storage_bucket_iam_member",
)

# The provider version the prebuilt bindings were generated from (for docs/tests).
GOOGLE_PROVIDER_VERSION = "6.50.0"

__all__ = [
    "App",
    "Construct",
    "DataResource",
    "Fn",
    "GOOGLE_PROVIDER_VERSION",
    "GcsBackend",
    "LocalBackend",
    "LocalExecProvisioner",
    "TerraformLocal",
    "TerraformOutput",
    "TerraformResource",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "Testing",
    "Token",
    "depend_from_here_on",
    *PROVIDER_SUBMODULES,
]


_LOCK = threading.Lock()

# cdktf's Testing.app() and Testing.fullSynth() make a cdktf.outdir.* directory
# in the system temp directory (Node's os.tmpdir()) and never remove it.
_SCRATCH: list[str] = []


def _remove_at_exit(path: str) -> str:
    """Remove ``path`` when this process exits (normally or by an exception)."""
    if not _SCRATCH:
        atexit.register(lambda: [shutil.rmtree(p, ignore_errors=True) for p in _SCRATCH])
    _SCRATCH.append(path)
    return path


class Testing(_CdktfTesting):
    """cdktf's ``Testing``, except that nothing it writes outlives the process:
    an app without ``outdir`` writes to a directory removed at exit, and so
    does ``full_synth`` (tests/gcp/test_no_temp_left.py)."""

    @classmethod
    def app(cls, *, outdir: str | None = None, **options: Any) -> App:
        return super().app(outdir=outdir or _remove_at_exit(tempfile.mkdtemp(prefix="cdktf.outdir.")), **options)

    @classmethod
    def full_synth(cls, stack: TerraformStack) -> str:
        return _remove_at_exit(super().full_synth(stack))


def _provider_package() -> ModuleType:
    """The provider package, registered once without running its ``__init__``.

    An entry in ``sys.modules`` whose ``__path__`` points at the package
    directory is all the import system needs to find ``<package>.<submodule>``;
    each submodule reaches the assembly through ``from .._jsii import *``.
    If the real package was imported already (``GCP_PROVIDER_LOADING=eager``,
    or an import elsewhere in the process), that one is used.
    """
    package = sys.modules.get(PROVIDER_PACKAGE)
    if package is None and not lazy_index.lazy_requested():
        package = importlib.import_module(PROVIDER_PACKAGE)  # its __init__: every submodule
    if package is None:
        spec = importlib.util.find_spec(PROVIDER_PACKAGE)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"{PROVIDER_PACKAGE} is not installed (pip install -r requirements.txt)")
        package = importlib.util.module_from_spec(spec)
        sys.modules[PROVIDER_PACKAGE] = package
    import cdktf_cdktf_provider_google._jsii  # noqa: F401  the jsii assembly, loaded once per process

    return package


# Stack -> resources that every resource created in it from now on depends on
# (depend_from_here_on). Keyed weakly: a stack of a finished test is forgotten.
_DEPEND_FROM_HERE: "weakref.WeakKeyDictionary[TerraformStack, tuple[Any, ...]]" = weakref.WeakKeyDictionary()
# Scope -> its stack, so that each scope costs one jsii call (TerraformStack.of), not one per resource.
_STACK_OF: "weakref.WeakKeyDictionary[Construct, TerraformStack]" = weakref.WeakKeyDictionary()


def depend_from_here_on(stack: TerraformStack, dependables: Iterable[Any]) -> None:
    """Every resource created in ``stack`` after this call depends on ``dependables``.

    The ``depends_on`` is passed with the rest of the resource's configuration
    when it is created, in the same jsii call. Setting it afterwards, in a pass
    over the finished tree, cost four round trips to the jsii kernel per
    resource (its path, and ``depends_on`` read and written): 0.6 s of a
    4.5 s GCP synthesis (docs/speed.md). Resources created before the call
    (the dependables themselves) are left alone.
    """
    _DEPEND_FROM_HERE[stack] = tuple(dependables)


def _stack_of(scope: Construct) -> TerraformStack:
    try:
        return _STACK_OF[scope]
    except (KeyError, TypeError):
        stack = TerraformStack.of(scope)
        try:
            _STACK_OF[scope] = stack
        except TypeError:  # not weakly referenceable: looked up each time
            pass
        return stack


def _with_stack_dependencies(init):
    """A resource class's ``__init__`` that adds its stack's ``depend_from_here_on`` list."""

    @functools.wraps(init)
    def __init__(self, scope, id_, *args, **kwargs):
        if _DEPEND_FROM_HERE:  # no jsii call at all in a process that never asked for it
            extra = _DEPEND_FROM_HERE.get(_stack_of(scope), ())
            if extra:
                own = list(kwargs.get("depends_on") or ())
                kwargs["depends_on"] = own + [d for d in extra if not any(d is o for o in own)]
        init(self, scope, id_, *args, **kwargs)

    __init__.__md_stack_dependencies__ = True
    return __init__


def _add_stack_dependencies(module: ModuleType) -> None:
    """Wrap ``__init__`` of each resource class defined in ``module`` (once per class)."""
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, TerraformResource) and value.__module__ == module.__name__
                and not getattr(value.__dict__.get("__init__"), "__md_stack_dependencies__", False)):
            value.__init__ = _with_stack_dependencies(value.__dict__["__init__"])


def __getattr__(name: str) -> ModuleType:
    """``tf.<provider submodule>``: imported on first access, then bound here."""
    if name not in PROVIDER_SUBMODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} "
                             f"(a provider submodule? add it to PROVIDER_SUBMODULES)")
    with _LOCK:
        _provider_package()
        module = importlib.import_module(f"{PROVIDER_PACKAGE}.{name}")
        _add_stack_dependencies(module)
        globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(PROVIDER_SUBMODULES))


# cdktf's own resource (terraform_data) takes the stack's dependencies like the provider's.
if not getattr(DataResource.__dict__["__init__"], "__md_stack_dependencies__", False):
    DataResource.__init__ = _with_stack_dependencies(DataResource.__dict__["__init__"])

if not lazy_index.lazy_requested():
    _provider_package()
