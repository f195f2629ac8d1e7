"""`archive users`: the accounts people sign in to the site with (archive/accounts.py)."""
from __future__ import annotations

import json
import sys

import click

from archive.access import ROLES
from archive.accounts import (
    Account, add_user, get_user, list_users, password_problem, set_disabled, set_password, set_role,
)
from archive.cli import AppContext, by_option
from archive.errors import AccountError
from archive.events import agent_name


@click.group("users")
def command() -> None:
    """Accounts for the site: researchers, staff and administrators."""


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input with --password-stdin (for scripts;
    never an option, which would show in `ps` and shell history), else asked twice without
    echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AccountError("no password on standard input (--password-stdin reads its "
                               "first line)")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    return password


def _say(verb: str, account: Account) -> None:
    click.echo(f"{verb} {account.name} ({account.role}).")


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="researcher (sees what they are granted), staff (restricted items too, "
                   "decides requests) or admin (closed items too).")
@click.option("--email", metavar="E", help="Where to reach them.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of asking.")
@by_option("Who adds the account")
@click.pass_obj
def add(app: AppContext, name: str, role: str, email: str | None, password_stdin: bool,
        by: str | None) -> None:
    """Add an account NAME with a role and a password (asked twice, or --password-stdin)."""
    password = _read_password(password_stdin)
    catalog = app.open_catalog(create=True)
    with catalog.session() as s:
        _say("Added", add_user(s, name, role, password, email, agent_name(by)))


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """List accounts: name, role, e-mail, disabled or locked, last sign-in."""
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        accounts = list_users(s)
    if as_json:
        click.echo(json.dumps([a.to_json() for a in accounts], ensure_ascii=False, indent=1))
        return
    if not accounts:
        click.echo("No users yet: `archive users add NAME --role researcher|staff|admin`.")
        return
    for a in accounts:
        state = "disabled" if a.disabled else (
            f"locked until {a.locked_until:%Y-%m-%d %H:%M} UTC" if a.locked_until else "active")
        last = f"last sign-in {a.last_login_at:%Y-%m-%d %H:%M} UTC" if a.last_login_at \
            else "never signed in"
        click.echo(f"{a.name}\t{a.role}\t{a.email or '-'}\t{state}\t{last}")


@command.command("disable")
@click.argument("name")
@by_option()
@click.pass_obj
def disable(app: AppContext, name: str, by: str | None) -> None:
    """Disable NAME: no sign-in, and their open sessions end at their next request."""
    with app.open_catalog().session() as s:
        _say("Disabled", set_disabled(s, name, True, agent_name(by)))


@command.command("enable")
@click.argument("name")
@by_option()
@click.pass_obj
def enable(app: AppContext, name: str, by: str | None) -> None:
    """Enable NAME again; also lifts a lock-out after failed sign-ins."""
    with app.open_catalog().session() as s:
        _say("Enabled", set_disabled(s, name, False, agent_name(by)))


@command.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of asking.")
@by_option()
@click.pass_obj
def passwd(app: AppContext, name: str, password_stdin: bool, by: str | None) -> None:
    """Set NAME's password (their other sessions end; a lock-out is lifted)."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        get_user(s, name)  # an unknown name is said before the password is asked for
    password = _read_password(password_stdin)
    with catalog.session() as s:
        _say("Changed the password of", set_password(s, name, password, agent_name(by)))


@command.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@by_option()
@click.pass_obj
def role(app: AppContext, name: str, role: str, by: str | None) -> None:
    """Give NAME the ROLE researcher, staff or admin (from their next request on the site)."""
    with app.open_catalog().session() as s:
        _say("Set the role of", set_role(s, name, role, agent_name(by)))
