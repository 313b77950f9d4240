"""Pure core: Pub/Sub deliveries in, outcomes and BigQuery rows out. No network here."""
