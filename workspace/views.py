"""Pages of the shell: sign-in, sign-out, home, 通知, personal settings, health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import text
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from workspace import auth, calendar, db, directory, notifications, password_change, passwords, throttle
from workspace.errors import ServiceError
from workspace.home import is_empty, today_for
from workspace.web import same_site_path

bp = Blueprint("workspace", __name__)
# The forced password change after an administrator's reset holds every page (API: web.api_blueprint).
bp.before_app_request(password_change.gate)


class LoginForm(FlaskForm):
    """The sign-in form; CSRF is checked by Flask-WTF."""

    username = StringField("ユーザー名", validators=[DataRequired(message="ユーザー名を入力してください。")])
    password = PasswordField(
        "パスワード", validators=[DataRequired(message="パスワードを入力してください。")]
    )


class TokenForm(FlaskForm):
    """Create a personal API token."""

    name = StringField(
        "トークンの名前", validators=[DataRequired(message="名前を入力してください。"), Length(max=100)]
    )


@bp.route("/login", methods=["GET", "POST"])
@throttle.per_account
@throttle.per_address
def login() -> Any:
    """Show the sign-in form; on success start a fresh session and go where the user was heading."""
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.check_credentials(form.username.data, form.password.data, address=request.remote_addr)
        except auth.SignInError as error:
            flash(error.message, "error")
            status = error.status
        else:
            # A fresh cookie and a fresh server-side key: a session fixed before sign-in is worthless.
            session.clear()
            auth.open_session(user, address=request.remote_addr, user_agent=request.user_agent.string)
            login_user(user)
            return redirect(same_site_path(request.args.get("next")) or url_for("workspace.home"))
    elif request.method == "POST":
        status = 400
    return render_template("workspace/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    """End the session on the server and in the browser."""
    auth.close_session(current_user.get_id(), actor=current_user.username)
    logout_user()
    session.clear()
    flash("サインアウトしました。", "info")
    return redirect(url_for("workspace.login"))


@bp.get("/")
@login_required
def home() -> Any:
    """The morning page: 今日の仕事 (workspace.home), who I am, today's date in both calendars, the 年度."""
    now = calendar.now()
    today = now.date()
    work = today_for(current_user)
    return render_template(
        "workspace/home.html",
        greeting=calendar.greeting(now),
        work=work,
        nothing_to_do=is_empty(work),
        today=today,
        fiscal_year=calendar.fiscal_year_label(calendar.fiscal_year(today)),
    )


class ProfileForm(FlaskForm):
    """The 読み of a local account (checked by directory.set_own_kana)."""

    display_name_kana = StringField(
        "読み", validators=[Length(max=100, message="読みは100文字以内で入力してください。")]
    )


class PasswordForm(FlaskForm):
    """パスワードの変更; the rule is workspace.password_change (fields are checked there)."""

    current = PasswordField("現在のパスワード")
    new = PasswordField("新しいパスワード")
    confirm = PasswordField("新しいパスワード（確認）")


class PreferencesForm(FlaskForm):
    """通知の設定 (notifications.PREFERENCES)."""

    mentions = BooleanField("メンション")
    approvals = BooleanField("決裁の到着")
    desktop = BooleanField("デスクトップ通知")


def _settings_page(
    form: TokenForm,
    *,
    new_secret: str | None = None,
    profile_error: str | None = None,
    password_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    profile = ProfileForm(formdata=None, display_name_kana=current_user.display_name_kana or "")
    if profile_error is not None:
        profile = ProfileForm()
    return render_template(
        "workspace/settings.html",
        form=form,
        profile=profile,
        profile_error=profile_error,
        password_form=PasswordForm(formdata=None),
        password_errors=password_errors or {},
        min_length=passwords.MIN_LENGTH,
        preferences=notifications.preferences_of(current_user),
        preferences_form=PreferencesForm(formdata=None),
        new_secret=new_secret,
        tokens=auth.list_tokens(current_user),
        revoke_form=FlaskForm(),
    ), status


def password_page(errors: dict[str, str] | None = None, *, status: int = 200) -> Any:
    """The password change form on its own (the forced change), or 設定 with the form's errors."""
    if not current_user.must_change_password:
        return _settings_page(TokenForm(formdata=None), password_errors=errors, status=status)
    return render_template(
        "workspace/password.html",
        password_form=PasswordForm(formdata=None),
        password_errors=errors or {},
        min_length=passwords.MIN_LENGTH,
    ), status


KIND_LABELS = {"mention": "メンション", "reply": "返信", "reaction": "リアクション", "approval": "決裁"}


@bp.get("/notifications")
@login_required
def notifications_page() -> Any:
    """My 通知, newest first; its script marks the unread ones it shows as read (the GET changes nothing)."""
    return render_template(
        "workspace/notifications.html",
        items=[notifications.notification_json(n) for n in notifications.list_for(current_user)],
        kind_labels=KIND_LABELS,
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Personal settings: 氏名 and 読み (editable for local accounts), パスワードの変更, 通知の設定,
    外部システム連携用のキー (API tokens: create, list, revoke)."""
    form = TokenForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            _token, new_secret = auth.create_token(current_user, form.name.data)
        except auth.TokenNameError as error:
            flash(str(error), "error")
            return _settings_page(form, status=422)
    return _settings_page(form, new_secret=new_secret)


@bp.post("/settings/profile")
@login_required
def save_profile() -> Any:
    """Save my 読み; a refused one is shown again with the reason (422)."""
    profile = ProfileForm()
    if not profile.validate_on_submit():
        message = (
            "画面の有効期限が切れました。もう一度お試しください。"
            if "csrf_token" in profile.errors
            else next(iter(sum(profile.errors.values(), [])), "入力内容を確認してください。")
        )
        return _settings_page(TokenForm(formdata=None), profile_error=str(message), status=422)
    try:
        directory.set_own_kana(current_user, profile.display_name_kana.data or "")
    except directory.DirectoryInputError as error:
        return _settings_page(TokenForm(formdata=None), profile_error=str(error), status=422)
    flash("読みを保存しました。", "info")
    return redirect(url_for("workspace.settings"))


@bp.route("/settings/password", methods=["GET", "POST"])
@password_change.per_account
@password_change.per_address
@login_required
def change_password() -> Any:
    """パスワードの変更: the form (alone while a change is forced, else on 設定) and its answer."""
    if request.method == "GET":
        if not current_user.must_change_password:
            return redirect(url_for("workspace.settings") + "#password-heading")
        return password_page()
    form = PasswordForm()
    if not form.validate_on_submit():
        return password_page({"current": "画面の有効期限が切れました。もう一度お試しください。"}, status=400)
    if (form.new.data or "") != (form.confirm.data or ""):
        return password_page({"confirm": "確認のために入力したパスワードが一致しません。"}, status=422)
    forced = bool(current_user.must_change_password)
    try:
        ended = password_change.change_own(
            current_user,
            form.current.data or "",
            form.new.data or "",
            keep_session_key=current_user.login_key,
        )
    except password_change.WrongPassword as error:
        password_change.audit_wrong_password(current_user)
        return password_page({"current": error.message}, status=422)
    except ServiceError as error:
        if error.status == 409:
            raise
        return password_page({error.extra.get("field", "new"): error.message}, status=422)
    message = "パスワードを変更しました。"
    if ended:
        message += f"ほかの端末やブラウザーのサインイン（{ended}件）は終了しました。"
    flash(message, "info")
    return redirect(url_for("workspace.home") if forced else url_for("workspace.settings"))


@bp.post("/settings/notifications")
@login_required
def save_preferences() -> Any:
    """通知の設定: save the three choices (unticked boxes are sent as nothing: false)."""
    form = PreferencesForm()
    if not form.validate_on_submit():
        flash("画面の有効期限が切れました。もう一度お試しください。", "error")
        return redirect(url_for("workspace.settings") + "#notify-heading")
    notifications.set_preferences(
        current_user,
        {"mentions": form.mentions.data, "approvals": form.approvals.data, "desktop": form.desktop.data},
    )
    flash("通知の設定を保存しました。", "info")
    return redirect(url_for("workspace.settings") + "#notify-heading")


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Any:
    """Revoke one of my tokens."""
    form = FlaskForm()
    if form.validate_on_submit() and auth.revoke_token(current_user, token_id):
        flash("キーを無効にしました。", "info")
    else:
        flash("そのキーは見つかりません。", "error")
    return redirect(url_for("workspace.settings"))


@bp.get("/favicon.ico")
def favicon() -> Any:
    """The tab icon: browsers ask /favicon.ico whatever the page links, so answer rather than 404."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@bp.get("/healthz")
def healthz() -> Any:
    """Report database and directory state; 503 when the database is down."""
    state: dict[str, Any] = {"status": "ok"}
    try:
        db.session().execute(text("SELECT 1"))
        state["database"] = "ok"
    except Exception:
        current_app.logger.exception("health check: database")
        state.update(status="unavailable", database="unavailable")
    state["directory"] = _directory_state()
    if state["directory"] == "unavailable" and state["status"] == "ok":
        state["status"] = "degraded"
    return jsonify(state), (503 if state["database"] != "ok" else 200)


def _directory_state() -> str:
    if current_app.config["DIRECTORY"] != "ldap":
        return "ok"
    from workspace import ldap

    try:
        ldap.check(ldap.LdapSettings.from_config(current_app.config))
        return "ok"
    except ldap.DirectoryError:
        return "unavailable"


@bp.get("/coming/<name>")
@login_required
def coming_soon(name: str) -> Any:
    """A capability that is not built yet says so plainly instead of failing."""
    labels = {"chat": "チャット", "approvals": "決裁", "documents": "文書", "search": "検索"}
    if name not in labels:
        return render_template("error.html", status=404, message="見つかりません。"), 404
    return render_template("workspace/coming_soon.html", label=labels[name])
