# The Python client from the seed's documentation (EXECUTIVE_SUMMARY.md, A.10 "APIs and Integration
# Points", "Python Client"), copied verbatim: TTS must serve it unchanged. Only the documentation's
# usage example at the end is commented out, so that importing this module does not try to reach
# http://localhost:8004; tests/python/run_seed_client.py drives the class instead.

import requests

class TicketSystemClient:
    def __init__(self, base_url, username, password):
        self.base_url = base_url
        self.authenticate(username, password)
    
    def authenticate(self, username, password):
        response = requests.post(
            f"{self.base_url}/api/v1/users/token/",
            json={"username": username, "password": password}
        )
        self.token = response.json()['access']
    
    def create_ticket(self, subject, category, priority='medium'):
        response = requests.post(
            f"{self.base_url}/tickets/",
            headers={'Authorization': f'Bearer {self.token}'},
            json={'subject': subject, 'category': category, 'priority': priority}
        )
        return response.json()

# # Usage
# client = TicketSystemClient('http://localhost:8004', 'user@example.com', 'pass')
# ticket = client.create_ticket('System slow', 'Technical Support', 'high')
