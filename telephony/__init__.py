"""The CTI app: AMI, call model, worker, WebSocket consumer, models and admin."""
