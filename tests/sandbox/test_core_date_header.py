"""Every answer's `Date` is on the sandbox's clock, the clock of its timestamps (as AWS's is)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from corral.sandbox import Sandbox


def test_the_date_of_an_answer_is_sandbox_time_not_the_machines(sandbox: Sandbox) -> None:
    sandbox.admin.advance(3600)  # the machine's clock is now an hour (and more) behind
    ecs = sandbox.client("ecs")
    before = sandbox.admin.now()
    answer = ecs.list_clusters()
    after = sandbox.admin.now()
    moto_answer = sandbox.client("sts").get_caller_identity()  # served by moto: same clock
    for headers in (
        answer["ResponseMetadata"]["HTTPHeaders"],
        moto_answer["ResponseMetadata"]["HTTPHeaders"],
    ):
        date = parsedate_to_datetime(headers["date"]).timestamp()
        assert before - 1 <= date, "Date is the sandbox's time (whole seconds), not the machine's"
    assert parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"]).timestamp() <= after
