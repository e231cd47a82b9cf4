-- What a handler returned, as JSON text (NULL: it returned None, or a value that is not JSON). Django's
-- tasks framework reads it back (TaskResult.return_value), and so can anyone holding the job's id.
-- text, not jsonb: as with payloads (0007), what goes in comes out, digits and number types included.
-- Numbered 0010: 0009 belongs to another change made at the same time (see the merge notes of issue 17).
ALTER TABLE jobs ADD COLUMN result text;
