#!/usr/bin/env python3
"""Drives the seed's unchanged Python client against a running TTS server.

Usage: run_seed_client.py BASE_URL USERNAME PASSWORD

Logs in with TicketSystemClient, creates the documentation's example ticket and checks the answer has
the seed's shape; then opens a second ticket and walks the ticket list one item per page by following
`next` with `requests.get(page["next"])`, as DRF clients do (the links are absolute URLs). Exits 0 on
success, 1 on a failed check, 2 on bad usage (exceptions exit non-zero too).
"""

import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from seed_client import TicketSystemClient  # noqa: E402


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, username, password = argv[1:]
    client = TicketSystemClient(base_url, username, password)
    ticket = client.create_ticket('System slow', 'Technical Support', 'high')
    print(f"create_ticket returned: {ticket!r}")

    failures = []
    if not isinstance(ticket, dict):
        failures.append(f"expected a JSON object, got {type(ticket).__name__}")
    else:
        if 'id' not in ticket:
            failures.append("no 'id'")
        ticket_id = ticket.get('ticket_id')
        if not (isinstance(ticket_id, str) and ticket_id.startswith('TKT-')):
            failures.append(f"'ticket_id' should start with 'TKT-', got {ticket_id!r}")
        if ticket.get('status') != 'open':
            failures.append(f"'status' should be 'open', got {ticket.get('status')!r}")
        if ticket.get('subject') != 'System slow':
            failures.append(f"'subject' should be 'System slow', got {ticket.get('subject')!r}")
    if not failures:
        client.create_ticket('Printer jammed', 'Technical Support')
        headers = {'Authorization': f'Bearer {client.token}'}
        page = requests.get(f"{base_url}/tickets/?page_size=1", headers=headers).json()
        subjects = []
        for _ in range(10):
            subjects += [t['subject'] for t in page['results']]
            if page['next'] is None:
                break
            if not page['next'].startswith(base_url + '/tickets/?'):
                failures.append(f"'next' should be an absolute URL under {base_url}, got {page['next']!r}")
                break
            page = requests.get(page['next'], headers=headers).json()
        if sorted(subjects) != ['Printer jammed', 'System slow']:
            failures.append(f"following 'next' should visit both tickets, saw {subjects!r}")
        if page.get('previous') is None or not page['previous'].startswith(base_url):
            failures.append(f"the last page's 'previous' should be an absolute URL, got {page.get('previous')!r}")
    if failures:
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        return 1
    print(f"OK: created {ticket['ticket_id']}")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
