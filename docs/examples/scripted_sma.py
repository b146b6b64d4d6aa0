"""Example trading script for ``ot.modes.ScriptedMode``: a moving-average crossover with a take-profit.

Run it in a backtest on the candles bundled with the package::

    octobot-trading backtest --data octobot_trading/data/BTC_USDT-1h.json.gz --mode docs/examples/scripted_sma.py

or on paper / live with ``builder.use_trading_mode(ot.modes.ScriptedMode, {"script": "docs/examples/scripted_sma.py"})``.
Edit the file while a paper or live manager runs it: the new version takes over at the next candle.
"""

TIME_FRAMES = ["1h"]  # declared candle feeds: on_candle runs at each closed 1h candle

FAST, SLOW = 8, 21
MIN_VALUE = 10  # quote value below which a balance counts as dust


async def on_start(ctx):
    ctx.state.setdefault("entries", 0)


async def on_candle(ctx):
    closes = ctx.closes(SLOW + 1)  # numpy array, oldest first, the trigger candle last
    if len(closes) < SLOW + 1:
        return
    fast_now, slow_now = closes[-FAST:].mean(), closes[-SLOW:].mean()
    fast_before, slow_before = closes[-FAST - 1:-1].mean(), closes[-SLOW - 1:-1].mean()
    base = ctx.symbol.split("/")[0]
    holding = ctx.total(base) * ctx.close >= MIN_VALUE
    if fast_before <= slow_before and fast_now > slow_now and not holding:
        await ctx.market_buy("95%")  # 95 % of the available quote, rounded down to the amount step
        ctx.state["entries"] += 1
    elif fast_before >= slow_before and fast_now < slow_now and holding:
        await ctx.cancel_all()  # the resting take-profit, if any
        await ctx.market_sell("all")


async def on_fill(ctx, order):
    if order.side == "buy":
        await ctx.limit_sell("all", offset="+3%")  # take profit 3 % above the last close
