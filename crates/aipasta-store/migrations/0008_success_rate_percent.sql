-- A model's success rate is a percentage (0 to 100), as the product plan's model document and
-- the API give it (performance.successRate). It was stored as a fraction (0 to 1), which the
-- model page then showed as "1.0%" for a model that never failed.
UPDATE models SET success_rate = success_rate * 100 WHERE success_rate IS NOT NULL;
