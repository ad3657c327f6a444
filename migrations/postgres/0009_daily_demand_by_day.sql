-- Sales over a period for every product (the chat's "what did we sell last week?", the
-- dashboard's sales page) sum the tenant's days in that period. The primary key orders days
-- within a product, so without this index the sum read every day of every product: 365,000
-- rows for 1,000 products with a year of history, to use 7,000 (restock-bench --only chat).
CREATE INDEX daily_demand_by_day ON daily_demand (tenant_id, day);
