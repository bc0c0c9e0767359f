"""HTTP routes: one router per area. Routes orchestrate; rules live in domain modules."""
