"""The AMI worker: one runner per connector, the history recorder, the publisher, leases."""
