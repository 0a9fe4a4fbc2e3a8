/** Every text the app sends, in one place, so tone and wording stay consistent. */
export const texts = {
  welcome: 'Welcome to Missed-Call Assistant! We text your customers back when you miss a call. What is the name of your business?',
  askServiceArea: (business: string) => `Thanks! What area does ${business} serve?`,
  askNameAgain: 'Sorry, we did not catch that. What is the name of your business?',
  askAreaAgain: 'Sorry, we did not catch that. Which town or area do you serve?',
  numberAllocated: (number: string) =>
    `Your assistant number is ${number}. Forward missed calls to it and we will text your customers back. Reply YES to go live.`,
  poolEmpty: 'Thanks! We are setting up your assistant number and will text you as soon as it is ready.',
  askConfirmAgain: 'Reply YES when you are ready to go live.',
  paymentNeeded: (link: string) => `Almost there: activate your subscription at ${link} and we will take you live.`,
  testCall: (number: string) => `You are active! Last step: call ${number} from this phone to test it.`,
  live: (business: string) => `${business} is live. We will text back every caller you miss.`,
  ownerHelp: 'Reply PAUSE to stop texting customers, RESUME to start again, or STATUS for your status.',
  ownerPaused: 'Paused: your customers get only a short note that you will get back to them, until you reply RESUME.',
  ownerResumed: 'Resumed: we are texting your customers again.',
  ownerStatus: (business: string, number: string | undefined, paused: boolean) =>
    `${business}: ${number ?? 'no number yet'}, ${paused ? 'paused' : 'active'}.`,
  missedCall: (business: string) => `Sorry we missed your call at ${business}! How can we help? Reply here and we will get right back to you.`,
  customerAck: (business: string) => `Thanks! ${business} got your message and will get back to you shortly. If it is an emergency, reply URGENT.`,
  customerUrgentAck: (business: string) => `Thanks, we flagged this as urgent and alerted ${business} right away.`,
  missedCallPaused: (business: string) => `Sorry we missed your call. ${business} will get back to you as soon as they can.`,
  deflection: (business: string) => `Thanks for your message. ${business} will get back to you as soon as they can.`,
  ownerUrgent: (customer: string, text: string) => `URGENT job from ${customer}: "${text.slice(0, 200)}"`,
  holding: 'Thanks, we got your message and will reply in a moment.',
  failsafe: 'Sorry we missed your call. Please text this number or call back and we will help you as soon as we can.',
  politeError: 'Sorry, something went wrong on our side. We have been alerted and will get back to you shortly.',
} as const;
