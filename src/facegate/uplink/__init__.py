"""A site's link to the city hub: joining, events and health up, notices down."""
