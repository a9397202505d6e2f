"""STS is answered by moto; the sandbox adds what moto leaves out: a role's trust policy decides
who may assume it (`trust.py`)."""
