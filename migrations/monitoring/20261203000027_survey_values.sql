-- The post-course questionnaire's answers as numbers ([{question_id, text,
-- value}]), for the quality analytics' averages per question.
ALTER TABLE post_course_windows ADD COLUMN survey_values jsonb NOT NULL DEFAULT '[]';
