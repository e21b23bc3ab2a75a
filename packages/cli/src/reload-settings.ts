/*
 * What a reload does with a re-read config (Gunicorn's HUP): settings that can change while
 * serving go to the new units; those the settings table marks `restart` (the listeners, the
 * engine, the user, the log destination...) cannot, so they keep their running value and are
 * named, all in one warning line.
 */
import { SETTINGS, type SettingName, type Settings } from '@gatehouse/core';
import { flagName, formatSettingValue } from '@gatehouse/core/internal';

export interface ReloadSettings {
  readonly settings: Settings;
  /** One line naming the settings that need a restart to change, or null. */
  readonly warning: string | null;
}

export function settingsForReload(running: Readonly<Settings>, reread: Readonly<Settings>): ReloadSettings {
  const settings = { ...reread } as Settings;
  const kept: string[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (!SETTINGS[name].restart) continue;
    const before = formatSettingValue(name, running[name]);
    const after = formatSettingValue(name, reread[name]);
    if (before === after) continue;
    (settings as Record<SettingName, unknown>)[name] = running[name];
    kept.push(`--${flagName(name)} (${after}; running with ${before})`);
  }
  const warning = kept.length === 0 ? null
    : `reload: ${kept.join(', ')} cannot change without a restart; kept the running value${kept.length > 1 ? 's' : ''}, the rest of the new config applies`;
  return { settings, warning };
}
