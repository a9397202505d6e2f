"""A function's deployment package: checked as Lambda checks a .zip uploaded directly.

Limits from "Lambda quotas" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
50 MB zipped for a direct upload, 250 MB unzipped. Lambda counts the direct-upload limit on the
request, where the zip travels base64-encoded: its answer names 69905067 bytes, 50 MB in base64.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

from .exceptions import InvalidParameterValueException, RequestEntityTooLargeException

ZIPPED_LIMIT = 50 * 1024 * 1024
REQUEST_LIMIT = 69905067  # ZIPPED_LIMIT base64-encoded, as Lambda's error message states it
UNZIPPED_LIMIT = 250 * 1024 * 1024


def check_zip(data: bytes, operation: str) -> None:
    """Raise Lambda's error for a package it would refuse; the package is not extracted."""
    if (len(data) + 2) // 3 * 4 >= REQUEST_LIMIT:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {REQUEST_LIMIT} bytes for the {operation} operation"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > UNZIPPED_LIMIT:
                raise InvalidParameterValueException(
                    f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes"
                )
            broken = archive.testzip()  # every member's CRC, as unzipping would check it
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _unzip_failed() from exc
    if broken is not None:
        raise _unzip_failed()


def _unzip_failed() -> InvalidParameterValueException:
    return InvalidParameterValueException(
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def sha256(data: bytes) -> str:
    """CodeSha256 as Lambda reports it: the base64 of the package's SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
