#!/usr/bin/env python3
"""Drives the seed's unchanged Python client against a running TTS server.

Usage: run_seed_client.py BASE_URL USERNAME PASSWORD

Logs in with TicketSystemClient, creates the documentation's example ticket and checks the answer has
the seed's shape. Exits 0 on success, 1 on a failed check, 2 on bad usage (exceptions exit non-zero too).
"""

import os
import sys

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
    if failures:
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        return 1
    print(f"OK: created {ticket['ticket_id']}")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
