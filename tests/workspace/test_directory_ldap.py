"""Sign-in and directory sync against the private slapd, through the application."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.ldap_fixtures import AD, AD_GROUPS, AD_STAFF, VILLAGE
from workspace import db, directory
from workspace.models import Department, User

SATO = "sato.ichiro"  # 総務課長 in the sample village


@pytest.fixture
def app_config(slapd, request):
    return slapd.config(**getattr(request, "param", {}))


def _sync(app):
    return app.test_cli_runner().invoke(args=["directory", "sync"])


def test_ldap_user_signs_in_and_home_shows_department(client):
    response = login(client, SATO, VILLAGE.password(SATO))
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert '<dd id="my-department">総務課' in html


def test_ldap_roles_and_section_reach_the_api(client):
    token = client.post(
        "/api/v1/auth/token",
        json={"username": "suzuki.hanako", "password": VILLAGE.password("suzuki.hanako")},
    )
    assert token.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"}).get_json()
    assert me["roles"] == ["admin"]
    assert me["department"]["code"] == "01" and me["section"] is not None


def test_wrong_ldap_password_is_401_with_the_local_message(client):
    response = login(client, SATO, "wrong-password")
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが正しくありません。" in response.get_data(as_text=True)


def test_empty_ldap_password_is_refused(client):
    response = client.post("/api/v1/auth/token", json={"username": SATO, "password": ""})
    assert response.status_code == 401


def test_sync_imports_everyone_so_routes_can_find_people_who_never_signed_in(app):
    result = _sync(app)
    assert result.exit_code == 0, result.output
    assert f"{VILLAGE.user_count} entries" in result.output
    users = db.session().execute(select(func.count()).select_from(User).where(User.active.is_(True))).scalar()
    assert users == VILLAGE.user_count - 1  # the disabled one is imported inactive
    assert directory.get_user(VILLAGE.disabled).active is False
    departments = (
        db.session()
        .execute(select(func.count()).select_from(Department).where(Department.parent_id.is_(None)))
        .scalar()
    )
    assert departments == 9
    mayor = directory.get_user(VILLAGE.mayor)
    assert mayor.title == "村長" and mayor.last_login_at is None
    staff = directory.get_user("tanaka.misaki")
    assert directory.department_head_of(staff).username == SATO
    # The section chief is the 係長 of the person's own 係 (0202 in the sample village).
    assert directory.section_chief_of(directory.get_user("yamamoto.sho")).username == "watanabe.yoko"


def test_sync_twice_changes_nothing_the_second_time(app):
    _sync(app)
    second = _sync(app)
    assert "0 created" in second.output and "0 deactivated" in second.output


def test_sync_deactivates_vanished_user_and_ends_the_session(app, client, slapd_reset):
    _sync(app)
    login(client, "tanaka.misaki", VILLAGE.password("tanaka.misaki"))
    assert client.get("/").status_code == 200
    dn = directory.get_user("tanaka.misaki").ldap_dn
    slapd_reset.modify(f"dn: {dn}\nchangetype: delete\n")
    result = _sync(app)
    assert "1 deactivated" in result.output
    assert directory.get_user("tanaka.misaki").active is False
    assert client.get("/").status_code == 302


def test_user_disabled_in_directory_is_deactivated_by_sync(app, slapd_reset):
    _sync(app)
    dn = directory.get_user(SATO).ldap_dn
    slapd_reset.modify(f"dn: {dn}\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: TRUE\n")
    _sync(app)
    assert directory.get_user(SATO).active is False


def test_sign_in_refreshes_attributes(app, client, slapd_reset):
    login(client, SATO, VILLAGE.password(SATO))
    dn = directory.get_user(SATO).ldap_dn
    slapd_reset.modify(
        f"dn: {dn}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: 02\n"
        "-\nreplace: ou\nou: 企画財政課\n"
    )
    fresh = app.test_client()
    login(fresh, SATO, VILLAGE.password(SATO))
    assert directory.get_user(SATO).department.code == "02"


def test_directory_down_gives_503_and_signed_in_users_carry_on(app, client, slapd):
    login(client, SATO, VILLAGE.password(SATO))
    slapd.stop()
    try:
        other = app.test_client()
        page = login(other, "suzuki.hanako", VILLAGE.password("suzuki.hanako"))
        assert page.status_code == 503
        assert "ディレクトリ（LDAP）に接続できません" in page.get_data(as_text=True)
        api = other.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "directory_unavailable"
        assert client.get("/").status_code == 200
        health = client.get("/healthz").get_json()
        assert health["directory"] == "unavailable" and health["status"] == "degraded"
        assert _sync(app).exit_code != 0
    finally:
        slapd.start()


AD_CONFIG = {
    "LDAP_USER_BASE": AD_STAFF,
    "LDAP_GROUP_BASE": AD_GROUPS,
    "LDAP_USER_FILTER": "(sAMAccountName={username})",
    "LDAP_ATTR_USERNAME": "sAMAccountName",
    "LDAP_ATTR_DEPARTMENT": "department",
    "LDAP_ATTR_SECTION": "",
    "LDAP_ATTR_SECTION_CODE": "",
    "LDAP_DISABLED_ATTR": "",
    "LDAP_ROLE_GROUPS": f"admin=CN=ws-admins,{AD_GROUPS.upper()};records=CN=ws-records,{AD_GROUPS.upper()}",
}


@pytest.mark.parametrize("app_config", [AD_CONFIG], indirect=True)
def test_active_directory_style_works_by_configuration(app, client, app_config):
    token = client.post("/api/v1/auth/token", json={"username": "j.sato", "password": AD.password("j.sato")})
    assert token.status_code == 201, token.get_json()
    assert token.get_json()["user"]["roles"] == ["admin", "records"]
    disabled = client.post(
        "/api/v1/auth/token", json={"username": AD.disabled, "password": AD.password(AD.disabled)}
    )
    assert disabled.status_code == 401
    assert f"{AD.user_count} entries" in _sync(app).output


def test_directory_sync_by_the_cli_ends_a_vanished_persons_live_socket(app, slapd_reset, tmp_path):
    """`workspace directory sync` run as its own process (no Redis) reaches the server's open sockets."""
    import subprocess
    import sys

    import requests

    from tests.chat.test_live_access_cli import SOCKET_WAIT, Listener
    from tests.conftest import ROOT, LiveServer, free_port, server_env, wait_for

    _sync(app)
    env = server_env(app, **{f"WORKSPACE_{k}": v for k, v in slapd_reset.config().items()})
    server = LiveServer(env, free_port(), tmp_path / "server.log")
    try:
        token = requests.post(
            server.url + "/api/v1/auth/token",
            json={"username": "tanaka.misaki", "password": VILLAGE.password("tanaka.misaki")},
            timeout=10,
        ).json()["token"]
        listener = Listener(server.url, token)
        dn = directory.get_user("tanaka.misaki").ldap_dn
        db.session().commit()
        slapd_reset.modify(f"dn: {dn}\nchangetype: delete\n")
        done = subprocess.run(
            [sys.executable, "-m", "workspace", "directory", "sync"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0 and "1 deactivated" in done.stdout + done.stderr, done.stderr
        assert wait_for(lambda: listener.ended, SOCKET_WAIT), "the removed person's socket stayed open"
        listener.close()
    finally:
        server.stop()
