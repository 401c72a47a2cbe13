// The person's settings: setLocale writes the choice under the app's home, then tells every page (and the
// Electron shell, which rebuilds its menu) with a settings-changed event.
import type { Handlers, StudioContext } from './context';
import { writeSettings } from '../store/settings';

export function settingsHandlers(ctx: StudioContext): Pick<Handlers, 'setLocale'> {
  return {
    setLocale: async ({ locale }) => {
      const settings = { ...ctx.state.settings, locale };
      writeSettings(ctx.home, settings);
      ctx.publish({ type: 'settings-changed', settings });
      return settings;
    },
  };
}
