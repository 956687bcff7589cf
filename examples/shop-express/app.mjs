// An Express app that logs with winston and has no telemetry code at all.
// Run it under the preload and its logs, traces and metrics are correlated:
//
//   OTEL_SERVICE_NAME=shop node --import otel-winston/register examples/shop-express/app.mjs
import express from 'express';
import winston from 'winston';

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.json(),
  transports: [new winston.transports.Console()],
});

const app = express();

app.get('/hello', (req, res) => {
  const name = typeof req.query.name === 'string' ? req.query.name : 'world';
  logger.info('saying hello', { name });
  res.json({ hello: name });
});

app.get('/checkout', (_req, res) => {
  logger.info('charging the card', { amount: 42.5, currency: 'EUR' });
  const error = Object.assign(new Error('card declined'), { code: 'E_CARD_DECLINED' });
  logger.error('payment failed', error);
  res.status(402).json({ error: error.message });
});

app.get('/weather', async (_req, res) => {
  logger.info('asking the weather service');
  const upstream = await fetch(`http://127.0.0.1:${server.address().port}/internal/forecast`);
  const forecast = await upstream.json();
  logger.info('weather service answered', { status: upstream.status, forecast });
  res.json(forecast);
});

app.get('/internal/forecast', (_req, res) => {
  logger.info('computing a forecast');
  res.json({ sky: 'clear', celsius: 21 });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
