"""A local AWS for ECS deployments: ECS, ELBv2, Application Auto Scaling and Cloud Map emulated
with their real timing behaviour; EC2, S3, IAM, STS, ECR, CloudWatch, Logs, Secrets Manager and
SSM served by moto; all on one endpoint for unmodified boto3 and the AWS CLI."""

from .client import SandboxAdmin
from .server import Sandbox, SandboxApp

__all__ = ["Sandbox", "SandboxAdmin", "SandboxApp"]
