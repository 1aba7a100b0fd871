-- A case keeps what the decision to let its order through saw (issue 14): the rule set and
-- the facts, as JSON. NULL for cases sent before receipts existed.
ALTER TABLE cases ADD COLUMN decision_receipt TEXT;
