"""Who may bring the bot into a room: the config's allowed users and domains, decided purely.

A user id's domains are its server part and, for Tchap ids such as
`@prenom.nom-ville.fr:agent.collectivites.tchap.gouv.fr`, the e-mail domain folded into the local
part (everything after its last hyphen, `ville.fr`). A domain allows itself and its subdomains.
With no allowed user and no allowed domain configured, the bot is open to everyone.
"""
from __future__ import annotations


def user_domains(user_id: str) -> tuple[str, ...]:
    """The server part and, when the local part holds one, the e-mail domain of a user id."""
    localpart, _, server = user_id.removeprefix("@").partition(":")
    domains = [server.lower().split(":")[0]] if server else []  # drop a port
    if "-" in localpart:
        email_domain = localpart.rsplit("-", 1)[1].lower()
        if "." in email_domain:
            domains.append(email_domain)
    return tuple(domains)


def may_invite(user_id: str, *, allowed_users: tuple[str, ...], allowed_domains: tuple[str, ...]) -> bool:
    """Whether the bot accepts an invite from `user_id`."""
    if not allowed_users and not allowed_domains:
        return True
    if user_id in allowed_users:
        return True
    return any(domain == allowed or domain.endswith("." + allowed)
               for domain in user_domains(user_id) for allowed in allowed_domains)
