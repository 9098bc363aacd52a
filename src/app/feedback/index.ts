export { postFeedback, type FeedbackView } from './post-feedback.js';
