"""Names belong to their owners and users have immutable ids, in an embedded hub (Connect and
the servable registry): who may publish under a name, and what a metadata update keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import Hub
from hub.exceptions import AccessDeniedError, NameNotAvailableError

AUTHORS = ["Ward, Logan"]


def double(x: float) -> float:
    return 2 * x


def folder(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    out.mkdir()
    (out / "rows.csv").write_text("a,b\n1,2\n")
    return out


def test_a_name_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    with Hub(home, user="alice", progress=False) as alice:
        sub = alice.submit(
            folder(tmp_path, "a"), "Secret", AUTHORS, source_name="zebra", visible_to=["user:alice"]
        )
        assert sub.status == "complete"
        assert (
            alice.submit(folder(tmp_path, "b"), "Again", AUTHORS, source_name="zebra").source_id == "zebra_v2"
        )
    with Hub(home, user="bob", progress=False) as bob:
        for wait in (True, False):
            with pytest.raises(NameNotAvailableError, match="name not available: 'zebra'; choose another"):
                bob.submit(folder(tmp_path, f"c{wait}"), "Mine", AUTHORS, source_name="zebra", wait=wait)
        with pytest.raises(NameNotAvailableError):
            bob.submit(folder(tmp_path, "d"), "Zebra", AUTHORS)  # the name made from the title
        assert bob.submissions() == []
    with Hub(home, progress=False) as admin:
        assert [s.owner for s in admin.submissions()] == ["alice", "alice"]


def test_admins_may_update_curators_may_not(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    with Hub(home, user="alice", progress=False) as alice:
        alice.submit(folder(tmp_path, "a"), "Data", AUTHORS, source_name="data")
    with (
        Hub(home, user="cora", groups=["curators"], progress=False) as cora,
        pytest.raises(AccessDeniedError),
    ):
        cora.update_metadata("data", title="Curated title")
    with Hub(home, progress=False) as admin:
        ds = admin.update_metadata("data", title="Fixed by an admin")
        assert ds.source_id == "data_v2" and ds.owner == "alice", "the owner stays"


def test_a_group_name_is_its_members(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    with Hub(home, user="alice", groups=["lab"], progress=False) as alice:
        with pytest.raises(AccessDeniedError, match="not a member of group 'other'"):
            alice.submit(folder(tmp_path, "x"), "Lab", AUTHORS, source_name="lab_data", group="other")
        alice.submit(folder(tmp_path, "a"), "Lab", AUTHORS, source_name="lab_data", group="lab")
        assert alice.publish_servable(alice.describe(double, name="model"), group="lab") == "lab/model"
    with Hub(home, user="carol", groups=["lab"], progress=False) as carol:
        assert (
            carol.submit(folder(tmp_path, "b"), "Lab", AUTHORS, source_name="lab_data").source_id
            == "lab_data_v2"
        )
        assert carol.publish_servable(carol.describe(double, name="model"), group="lab") == "lab/model"
        assert carol.servable("lab/model").versions == [1, 2]
    with Hub(home, user="lab", progress=False) as lab, pytest.raises(NameNotAvailableError):
        lab.publish_servable(lab.describe(double, name="model"))  # a user named like the group


def test_a_metadata_update_keeps_who_its_acl_named(tmp_path: Path) -> None:
    """alice shared with dave; dave is deleted and a new dave created: alice's next version
    (same ACL) is not the new dave's to see, and dave's datasets are no one's to take."""
    home = tmp_path / "hub"
    with Hub(home, progress=False) as admin:
        admin.users.create_user(admin.principal, "dave")
    with Hub(home, user="dave", progress=False) as dave:
        dave.submit(folder(tmp_path, "d"), "Dave's", AUTHORS, source_name="daves", visible_to=["user:dave"])
    with Hub(home, user="alice", progress=False) as alice:
        alice.submit(folder(tmp_path, "a"), "Shared", AUTHORS, source_name="shared", visible_to=["user:dave"])
    with Hub(home, progress=False) as admin:
        admin.users.delete_user(admin.principal, "dave")
        admin.users.create_user(admin.principal, "dave")
        assert admin.dataset("daves").owner == "dave (deleted)"
    with Hub(home, user="alice", progress=False) as alice:
        assert alice.update_metadata("shared", title="Shared, again").source_id == "shared_v2"
        assert alice.dataset("shared").metadata["mdf"]["visible_to"] == ["user:dave"]
    with Hub(home, user="dave", progress=False) as dave:
        assert dave.datasets() == [] and dave.search("*").total == 0
        with pytest.raises(NameNotAvailableError):
            dave.submit(folder(tmp_path, "e"), "Mine", AUTHORS, source_name="daves")
    with Hub(home, user="alice", progress=False) as alice:  # naming dave again shares with the new one
        alice.update_metadata("shared", visible_to=["user:dave"])
    with Hub(home, user="dave", progress=False) as dave:
        assert [d.source_id for d in dave.datasets()] == ["shared_v3"]
