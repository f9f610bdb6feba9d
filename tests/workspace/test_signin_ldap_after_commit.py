"""A directory sign-in's after-commit work (the person's 課 channel) runs on a free session."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from chat.models import Channel, Member
from tests.conftest import login
from tests.ldap_fixtures import VILLAGE
from workspace import db, directory

SATO = "sato.ichiro"  # 総務課長 in the sample village


@pytest.fixture
def app_config(slapd):
    return slapd.config()


def test_first_ldap_sign_in_joins_the_department_channel_without_a_failed_callback(app, client, caplog):
    """Does the user_changed receiver (chat) write in a unit of its own after the sign-in commits?"""
    with caplog.at_level(logging.ERROR):
        response = login(client, SATO, VILLAGE.password(SATO))
    assert response.status_code == 302
    assert "after-commit callback failed" not in caplog.text
    assert "could not sync department channel" not in caplog.text
    user = directory.get_user(SATO)
    member = db.session().execute(
        select(Member.id)
        .join(Channel, Member.channel_id == Channel.id)
        .where(Member.user_id == user.id, Channel.department_id == user.department_id)
    ).first()
    assert member is not None
