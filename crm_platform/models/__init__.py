"""All ORM models, imported here so `Base.metadata` knows every table."""

from crm_platform.models.apps import (
    App,
    Form,
    FormDraftStep,
    FormVersion,
    SavedView,
    TemplateInstall,
    TemplateTask,
)
from crm_platform.models.flows import (
    AutomationRun,
    Flow,
    FlowInstance,
    FlowTask,
    FlowTimer,
    FlowVersion,
    Notification,
    OutboxEntry,
)
from crm_platform.models.imports import Import
from crm_platform.models.jobs import Job
from crm_platform.models.records import (
    FormPermission,
    IdempotencyKey,
    Record,
    RecordHistory,
    Sequence,
)
from crm_platform.models.security import ApiToken, LoginThrottle
from crm_platform.models.tenancy import Department, Role, Tenant, TenantStatus, User, UserRole

__all__ = [
    "ApiToken",
    "App",
    "AutomationRun",
    "Department",
    "Flow",
    "FlowInstance",
    "FlowTask",
    "FlowTimer",
    "FlowVersion",
    "Form",
    "FormDraftStep",
    "FormPermission",
    "FormVersion",
    "IdempotencyKey",
    "Import",
    "Job",
    "LoginThrottle",
    "Notification",
    "OutboxEntry",
    "Record",
    "RecordHistory",
    "Role",
    "SavedView",
    "Sequence",
    "TemplateInstall",
    "TemplateTask",
    "Tenant",
    "TenantStatus",
    "User",
    "UserRole",
]
